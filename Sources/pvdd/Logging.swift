import Glibc
import LinuxSystem

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

/// Turns of the loop over 10 ms (a handler or a bus call that held it), told
/// at most once every 10 s for each thing that held it, with a count of the
/// rest: under a flood of RAs every turn may be long, and the log must not
/// flood too, while a slow call is still told the first time.
final class LongTurnLog {
    static let interval = 10.0
    /// Things told apart; beyond these, the rest share one count.
    static let maximumKinds = 64
    private struct Kind {
        var lastReport = -Double.infinity
        var unreported = 0
        var worstUnreported = 0.0
    }
    private var kinds: [String: Kind] = [:]

    /// The line to log for `what` holding the loop `seconds` at `now`, or nil
    /// when one was logged for it less than ``interval`` ago (then it is counted).
    func record(_ what: String, seconds: Double, at now: Double) -> String? {
        let key = kinds[what] != nil || kinds.count < LongTurnLog.maximumKinds ? what : "other"
        var kind = kinds[key] ?? Kind()
        defer { kinds[key] = kind }
        guard now - kind.lastReport >= LongTurnLog.interval else {
            kind.unreported += 1
            kind.worstUnreported = max(kind.worstUnreported, seconds)
            return nil
        }
        var line = "\(what) held the loop for \(Int((seconds * 1000).rounded())) ms"
        if kind.unreported > 0 {
            line += " (and \(kind.unreported) more time(s) since the last report, at worst \(Int((kind.worstUnreported * 1000).rounded())) ms)"
        }
        kind = Kind(lastReport: now)
        return line
    }
}

/// The daemon's one record of long turns, for the loop's handlers and the bus calls
/// alike; touched only from the loop's thread.
nonisolated(unsafe) let longTurns = LongTurnLog()

/// Logs a turn of the loop over 10 ms, within ``LongTurnLog``'s bound.
func reportLongTurn(_ what: String, seconds: Double) {
    if let line = longTurns.record(what, seconds: seconds, at: SystemClock.monotonic) { logger.warning(line) }
}
