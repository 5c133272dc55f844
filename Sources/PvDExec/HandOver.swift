import LinuxSystem

/// Programs that hand a new request to an instance of theirs already running
/// (over the session bus, a socket or X11), so that, started by `pvd exec`
/// while another instance runs outside the domain, what they open may be
/// opened outside. Only for these does `pvd exec` look for another instance
/// and print a note: a second bash or python3 is a process of its own.
///
/// pvd knows the browsers ``BrowserProfile`` knows (they get a profile of
/// their own, so the note is for a command that picks its profile itself)
/// and a few desktop programs; the user adds others in
/// `~/.config/pvd/hand-over`, one file name per line, and every program of
/// `~/.config/pvd/browsers` counts.
enum HandOver {
    /// Desktop programs known to hand requests to a running instance.
    static let known: Set<String> = [
        "thunderbird", "libreoffice", "soffice", "code", "codium", "evolution", "gnome-terminal", "nautilus", "gedit",
        "gnome-text-editor", "okular", "evince", "kate", "konsole", "dolphin", "spotify", "slack", "signal-desktop",
    ]

    /// Whether `programName` (a file name) is a program that hands requests over.
    static func applies(to programName: String, home: String, extra: [String]? = nil) -> Bool {
        if known.contains(programName) || BrowserProfile.known[programName] != nil { return true }
        guard home.hasPrefix("/") else { return false }
        let configured = extra ?? listed(in: "\(home)/.config/pvd/hand-over") + BrowserProfile.configured(home: home).keys
        return configured.contains(programName)
    }

    /// The program names of a `hand-over` file; `#` starts a comment line.
    static func listed(in path: String) -> [String] {
        (HostFiles.read(path, limit: 65536) ?? "").split(separator: "\n").compactMap { line in
            let name = line.split(separator: " ").first.map(String.init)
            return name.flatMap { $0.hasPrefix("#") ? nil : $0 }
        }
    }
}
