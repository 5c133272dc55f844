import Glibc
import LinuxSystem
import PvDCore

/// A profile of a browser's own for one domain. Firefox and Chromium hand a
/// new window to an instance of the same profile already running (over the
/// session bus, measured for Firefox ESR even with --no-remote), so with the
/// user's usual profile the page would load outside the domain. With a
/// profile directory per domain (`~/.local/share/pvd/profiles/DOMAIN/BROWSER`)
/// the browser runs as an instance of its own, inside.
///
/// pvd knows Firefox and Chromium-based browsers; others are added in
/// `~/.config/pvd/browsers`, one line each: the program's file name, then its
/// profile option with `{profile}` where the directory goes
/// (`thunderbird --profile {profile}`). A command that chooses a profile
/// itself is left as it is.
public struct BrowserProfile: Equatable {
    public var directory: String
    /// The command with the profile option after the program.
    public var command: [String]

    /// Known browsers: the program's file name and its profile option.
    static let known: [String: [String]] = [
        "firefox": ["--profile", "{profile}"], "firefox-esr": ["--profile", "{profile}"],
        "chromium": ["--user-data-dir={profile}"], "chromium-browser": ["--user-data-dir={profile}"],
        "google-chrome": ["--user-data-dir={profile}"], "google-chrome-stable": ["--user-data-dir={profile}"],
        "brave-browser": ["--user-data-dir={profile}"], "microsoft-edge": ["--user-data-dir={profile}"],
    ]
    /// Options with which a command picks its profile itself.
    static let choosesProfile = ["-P", "-p", "--profile", "-profile", "--ProfileManager", "-ProfileManager", "--user-data-dir"]

    /// The profile for `command` in `domain`, or nil when the program is no
    /// browser pvd knows, or the command picks a profile itself.
    public init?(command: [String], domain: String, home: String, extra: [String: [String]]? = nil) {
        // The name comes from pvdd, which made the domain; still, it becomes a path.
        guard let program = command.first, home.hasPrefix("/"), !domain.contains("/"), domain != ".", domain != ".." else { return nil }
        let name = String(program.split(separator: "/").last ?? Substring(program))
        guard let option = (extra ?? BrowserProfile.configured(home: home))[name] ?? BrowserProfile.known[name] else { return nil }
        guard !command.dropFirst().contains(where: { word in BrowserProfile.choosesProfile.contains { word == $0 || word.hasPrefix($0 + "=") } }) else {
            return nil
        }
        let directory = "\(home)/.local/share/pvd/profiles/\(domain)/\(name)"
        self.directory = directory
        self.command = [program] + option.map { $0.replacing(text: "{profile}", with: directory) } + command.dropFirst()
    }

    /// The user's own additions (`~/.config/pvd/browsers`).
    static func configured(home: String) -> [String: [String]] {
        var table: [String: [String]] = [:]
        for line in (HostFiles.read("\(home)/.config/pvd/browsers") ?? "").split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            guard let program = words.first, !program.hasPrefix("#"), words.count > 1, words.dropFirst().contains(where: { $0.contains(text: "{profile}") })
            else {
                continue
            }
            table[program] = Array(words.dropFirst())
        }
        return table
    }

    /// Makes the directory (as the user pvd exec now runs as), private to them.
    public func makeDirectory() throws(SystemError) {
        var path = ""
        for part in directory.split(separator: "/") {
            path += "/" + part
            guard mkdir(path, 0o700) == 0 || errno == EEXIST else { throw systemError("make the profile directory", path) }
        }
    }
}
