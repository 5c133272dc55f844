import Glibc
import Logging

/// The daemon's log: one line per event on stderr. Under systemd (stderr is the
/// journal stream named by `JOURNAL_STREAM`) each line starts with its syslog
/// priority, `<3>` to `<7>`, which journald turns into the entry's priority
/// (sd-daemon(3)); elsewhere it starts with `pvdd:` and the level.
struct StderrLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    let journal: Bool

    init(journal: Bool) { self.journal = journal }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level = event.level
        var text =
            journal
            ? "<\(StderrLogHandler.priority(level))>\(event.message)\n"
            : "pvdd: \(level == .info ? "" : "\(level): ")\(event.message)\n"
        text.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
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

/// The daemon's logger; `LoggingSystem.bootstrap` runs once, before first use.
let logger: Logger = {
    let journal = StderrLogHandler.stderrIsJournal
    LoggingSystem.bootstrap { _ in StderrLogHandler(journal: journal) }
    return Logger(label: "pvdd")
}()
