import Glibc

/// The daemon's log: one line per event on stderr. Under systemd (stderr is the
/// journal stream named by `JOURNAL_STREAM`) each line starts with its syslog
/// priority, `<2>` to `<6>`, which journald turns into the entry's priority
/// (sd-daemon(3)); elsewhere it starts with `pvdd:` and the level.
struct DaemonLog: Sendable {
    /// syslog's priorities, the ones pvdd uses.
    enum Level: Int {
        case critical = 2
        case error = 3
        case warning = 4
        case info = 6
    }

    let journal: Bool

    func critical(_ message: @autoclosure () -> String) { log(.critical, message()) }
    func error(_ message: @autoclosure () -> String) { log(.error, message()) }
    func warning(_ message: @autoclosure () -> String) { log(.warning, message()) }
    func info(_ message: @autoclosure () -> String) { log(.info, message()) }

    /// The line as written: with its priority for the journal, with `pvdd:` and the level elsewhere.
    func line(_ level: Level, _ message: String) -> String {
        journal ? "<\(level.rawValue)>\(message)\n" : "pvdd: \(level == .info ? "" : "\(level): ")\(message)\n"
    }

    private func log(_ level: Level, _ message: String) {
        var text = line(level, message)
        text.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    /// True when stderr is the journal stream systemd connected (its device
    /// and inode are in `JOURNAL_STREAM`, "DEV:INO").
    static var stderrIsJournal: Bool {
        guard let value = getenv("JOURNAL_STREAM").map({ String(cString: $0) }) else { return false }
        var status = stat()
        guard fstat(STDERR_FILENO, &status) == 0 else { return false }
        return value == "\(status.st_dev):\(status.st_ino)"
    }
}

/// The daemon's log, told once at start whether stderr is the journal.
let logger = DaemonLog(journal: DaemonLog.stderrIsJournal)
