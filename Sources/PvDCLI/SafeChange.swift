import BusWire
import CommandSyntax
import Glibc
import LinuxSystem
import PvDWire
import Systemd

/// A change made safely, as nmstate makes one (`pvd apply`, `pvd commit`):
/// a checkpoint first, the change, a verification of what it added or
/// changed, then a wait for `pvd confirm` — or a rollback when the
/// verification fails (`--verify`), on `pvd rollback`, or when the time runs out.
struct SafeChange {
    static let options: [Option] = [
        .value(
            "confirm-within", "seconds",
            help: "Make a checkpoint first, and roll the change back unless pvd confirm comes within SECONDS (1 to 86400)."),
        .flag("verify", help: "Verify what the change added or changed; when a check fails, roll the change back and exit 1."),
        .flag("no-wait", help: "With --confirm-within: return once changed (and verified), leaving the checkpoint to pvd confirm."),
    ]
    /// How long a checkpoint made for --verify alone lasts: the verification's longest wait, and some.
    static let verifyOnlyTimeout: UInt32 = 90

    let confirmWithin: UInt32?
    let verify: Bool
    let waits: Bool
    /// Machine-readable: one JSON object at the end instead of lines as it goes.
    let json: Bool

    init(_ arguments: Arguments, json: Bool = false) throws(UsageError) {
        if let text = arguments.value("confirm-within") {
            guard let seconds = UInt32(text), (1...86_400).contains(seconds) else { throw UsageError("--confirm-within takes seconds, 1 to 86400") }
            confirmWithin = seconds
        } else {
            confirmWithin = nil
        }
        verify = arguments.flag("verify")
        waits = !arguments.flag("no-wait")
        if !waits, confirmWithin == nil { throw UsageError("--no-wait goes with --confirm-within") }
        self.json = json
    }

    /// Whether it asks for more than the change itself.
    var isSafe: Bool { confirmWithin != nil || verify }

    /// Makes the change `perform` makes (returning what it changed) under a
    /// checkpoint; exits 1 when it was rolled back.
    func run(with client: PvDClient, _ perform: () throws(BusError) -> [String]) throws(BusError) {
        var report: [JSONMember] = []
        var checkpoint: String?
        let made = SystemClock.monotonic
        if let timeout = confirmWithin ?? (verify ? SafeChange.verifyOnlyTimeout : nil) {
            checkpoint = try client.manager(.checkpointCreate, [.uint32(timeout)]).first?.text
            if let checkpoint, confirmWithin != nil { say("checkpoint \(checkpoint): rolled back in \(timeout) s unless confirmed") }
        }
        let changes: [String]
        do { changes = try perform() } catch {
            // Nothing was applied (all or nothing): the checkpoint has nothing to undo.
            if let checkpoint { _ = try? client.manager(.checkpointDestroy, [.objectPath(checkpoint)]) }
            throw error
        }
        report.append(JSONMember("changed", .bool(!changes.isEmpty)))
        report.append(JSONMember("changes", .array(changes.map(JSONValue.string))))
        if changes.isEmpty {
            say("nothing to change")
            // Nothing to confirm or roll back.
            if let checkpoint { _ = try client.manager(.checkpointDestroy, [.objectPath(checkpoint)]) }
            return finish(report + [JSONMember("checkpoint", .null)])
        }
        report.append(JSONMember("checkpoint", checkpoint.map(JSONValue.string) ?? .null))
        for change in changes { say(change) }
        let failed = try verification(of: changes, client: client, into: &report)
        if verify, !failed.isEmpty, let checkpoint {
            let undone = try rollBack(checkpoint, client: client)
            report.append(JSONMember("rolled_back", .bool(true)))
            finish(report)
            throw BusError(PvDBusAPI.ErrorName.failed, "verification failed (\(failed.joined(separator: "; "))); rolled back: \(undone)")
        }
        guard let checkpoint else { return finish(report) }
        guard confirmWithin != nil else {
            _ = try client.manager(.checkpointDestroy, [.objectPath(checkpoint)])
            return finish(report)
        }
        guard waits else {
            say("confirm with pvd confirm within the time left, or it is rolled back (pvd rollback: at once)")
            return finish(report)
        }
        let outcome = try waitForConfirmation(of: checkpoint, until: made + Double(confirmWithin ?? 0), client: client)
        report.append(JSONMember("rolled_back", .bool(outcome != nil)))
        finish(report)
        if let outcome { throw BusError(PvDBusAPI.ErrorName.failed, "rolled back: \(outcome)") }
    }

    /// Verifies the domains `changes` added or changed (when asked to, or
    /// under a checkpoint); the failed checks.
    private func verification(of changes: [String], client: PvDClient, into report: inout [JSONMember]) throws(BusError) -> [String] {
        let names = changes.compactMap { change -> String? in
            guard change.hasPrefix("add ") || change.hasPrefix("change ") else { return nil }
            return change.split(separator: " ").last.map(String.init)
        }
        guard isSafe, !names.isEmpty else { return [] }
        // Under a checkpoint, the verification ends a second before the time does, so that the rollback is this command's.
        let wait = confirmWithin.map { max(1, $0 - 1) } ?? 60
        say("verifying \(names.joined(separator: ", ")) (up to \(wait) s)")
        let results = try verifyDomains(names, wait: wait, client: client)
        for result in results { say(result.line) }
        report.append(JSONMember("verification", .array(results.map(\.json))))
        return results.filter { !$0.passed }.map { "\($0.domain) \($0.check): \($0.detail)" }
    }

    /// Rolls the checkpoint back; what that changed. A checkpoint already
    /// rolled back by its timer is no error.
    private func rollBack(_ checkpoint: String, client: PvDClient) throws(BusError) -> String {
        do { return try rollBackCheckpoint(checkpoint, client: client) } catch  where error.name == PvDBusAPI.ErrorName.notFound {
            return "by its timeout"
        }
    }

    /// Waits for CheckpointConfirmed or CheckpointRolledBack, saying the time
    /// left until `deadline` (CLOCK_MONOTONIC); nil when confirmed, else why it
    /// was rolled back.
    private func waitForConfirmation(of checkpoint: String, until deadline: Double, client: PvDClient) throws(BusError) -> String? {
        let left = max(0, Int((deadline - SystemClock.monotonic).rounded()))
        say("waiting for pvd confirm (from any shell): \(left) s left; pvd rollback rolls it back at once")
        var outcome: String??
        var lastSaid = SystemClock.monotonic
        var goneAt: Double?
        try client.connection.watchSignals(
            from: PvDBusAPI.busName,
            idle: (
                1,
                {
                    let now = SystemClock.monotonic
                    if now - lastSaid >= 10 || (deadline - now < 5.5 && deadline - now > 4.5) {
                        say("\(max(0, Int((deadline - now).rounded()))) s left")
                        lastSaid = now
                    }
                    // A checkpoint gone without a signal (pvdd was restarted meanwhile, say): ask, and trust a second look.
                    let pending = (try? client.manager(.listCheckpoints).first).map { $0 == .array(elementSignature: "o", [.objectPath(checkpoint)]) } ?? true
                    if pending {
                        goneAt = nil
                    } else if let goneAt, now - goneAt > 1.5 {
                        outcome = .some("the checkpoint is gone")
                    } else {
                        goneAt = goneAt ?? now
                    }
                    return outcome == nil
                }
            )
        ) { interface, member, _, arguments in
            guard interface == PvDBusAPI.managerInterface, arguments.first?.text == checkpoint else { return true }
            if member == PvDBusAPI.Signal.checkpointConfirmed.rawValue {
                outcome = .some(nil)
            } else if member == PvDBusAPI.Signal.checkpointRolledBack.rawValue {
                let reason = arguments.count > 1 ? arguments[1].text ?? "" : ""
                outcome = .some("\(reason); \(undone(arguments.count > 2 ? arguments[2] : nil))")
            }
            return outcome == nil
        }
        if outcome == .some(nil) { say("confirmed: the change stays") }
        return outcome ?? nil
    }

    private func say(_ line: String) { if !json { printLine(line) } }
    private func finish(_ report: [JSONMember]) { if json { printLine(JSONValue.object(report).serialized) } }
}

/// One check of a verification, as Verify returns it.
struct VerifiedCheck {
    var domain, check, detail: String
    var passed: Bool
    var time: Int64

    var line: String { "\(domain)  \(check)  \(passed ? "ok" : "FAILED")  \(detail)" }
    var json: JSONValue {
        .object([
            JSONMember("domain", .string(domain)), JSONMember("check", .string(check)), JSONMember("passed", .bool(passed)),
            JSONMember("detail", .string(detail)), JSONMember("time", .integer(time)),
        ])
    }
}

/// Verify: every check of `names` (none: every domain), within `wait` seconds.
func verifyDomains(_ names: [String], wait: UInt32, client: PvDClient) throws(BusError) -> [VerifiedCheck] {
    let reply = try client.connection.call(
        PvDBusAPI.busName, PvDBusAPI.managerPath, PvDBusAPI.managerInterface, PvDBusAPI.Method.verify.rawValue,
        [.strings(names), .uint32(wait)], interactive: true, timeout: UInt64(wait) + 300)
    guard case .array(_, let items)? = reply.first else { return [] }
    return items.compactMap {
        guard case .structure(let fields) = $0, fields.count == 5, let domain = fields[0].text, let check = fields[1].text,
            case .boolean(let passed) = fields[2], let detail = fields[3].text, case .int64(let time) = fields[4]
        else { return nil }
        return VerifiedCheck(domain: domain, check: check, detail: detail, passed: passed, time: time)
    }
}

struct Verify: DaemonCommand {
    static let command = Command(
        "verify", abstract: "Check that domains are as asked and work; exit 1 when a check fails.",
        discussion: """
            Per domain: its namespace, its addresses (no longer tentative), routes and resolv.conf against what was \
            asked; that each router answers a Neighbor Solicitation on its uplink; that each DNS server answers a \
            query sent from inside the domain; that a VPN domain's client connected within its connect-within. \
            Root's, or a user's whom polkit authorizes (it sends solicitations and queries). The results stay in pvd show.
            """,
        arguments: [Argument("name", help: "Domains to verify (default: every domain).", optional: true, repeats: true)],
        options: [
            .value("wait", "seconds", help: "The longest a check may wait (default 30)."),
            .flag("json", help: "JSON: a list of checks."),
        ],
        action: action)
    let names: [String]
    let wait: UInt32
    let json: Bool

    init(_ arguments: Arguments) throws(UsageError) {
        names = arguments.arguments("name")
        guard let wait = UInt32(arguments.value("wait") ?? "30"), wait <= 600 else { throw UsageError("--wait takes seconds, 0 to 600") }
        self.wait = wait
        json = arguments.flag("json")
    }

    func run(with client: PvDClient) throws(BusError) {
        let results = try verifyDomains(names, wait: wait, client: client)
        if json { printLine(JSONValue.array(results.map(\.json)).serialized) }
        for result in results where !json { printLine(result.line) }
        let failed = results.filter { !$0.passed }.count
        if failed > 0 { throw BusError(PvDBusAPI.ErrorName.failed, "\(failed) of \(results.count) checks failed") }
    }
}

/// `pvd confirm`: the pending checkpoint (or the one named) is confirmed.
struct Confirm: DaemonCommand {
    static let command = Command(
        "confirm", abstract: "Confirm the pending checkpoint: the changes made since it stay.",
        arguments: [Argument("checkpoint", help: "Its object path (default: the pending one).", optional: true)], action: action)
    let checkpoint: String?

    init(_ arguments: Arguments) { checkpoint = arguments.argument("checkpoint") }

    func run(with client: PvDClient) throws(BusError) {
        let path = try pendingCheckpoint(checkpoint, client: client)
        _ = try client.manager(.checkpointDestroy, [.objectPath(path)])
        printLine("confirmed \(path)")
    }
}

/// `pvd rollback`: the pending checkpoint (or the one named) is rolled back now.
struct Rollback: DaemonCommand {
    static let command = Command(
        "rollback", abstract: "Roll the pending checkpoint back now: the declared state and drop-ins as they were.",
        arguments: [Argument("checkpoint", help: "Its object path (default: the pending one).", optional: true)], action: action)
    let checkpoint: String?

    init(_ arguments: Arguments) { checkpoint = arguments.argument("checkpoint") }

    func run(with client: PvDClient) throws(BusError) {
        let path = try pendingCheckpoint(checkpoint, client: client)
        printLine("rolled back \(path): \(try rollBackCheckpoint(path, client: client))")
    }
}

/// CheckpointRollback: what the rollback changed, in words.
private func rollBackCheckpoint(_ path: String, client: PvDClient) throws(BusError) -> String {
    undone(try client.manager(.checkpointRollback, [.objectPath(path)]).first)
}

/// A rollback's changes (`as`, from CheckpointRollback or CheckpointRolledBack), in words.
private func undone(_ changes: BusValue?) -> String {
    guard case .array(_, let values)? = changes, !values.isEmpty else { return "nothing had changed" }
    return values.compactMap(\.text).joined(separator: "; ")
}

/// The checkpoint `path` names, or the pending one.
private func pendingCheckpoint(_ path: String?, client: PvDClient) throws(BusError) -> String {
    if let path { return path }
    guard case .array(_, let items)? = try client.manager(.listCheckpoints).first, let pending = items.first?.text else {
        throw BusError(PvDBusAPI.ErrorName.notFound, "no checkpoint is pending")
    }
    return pending
}
