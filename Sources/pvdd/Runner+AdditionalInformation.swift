import Glibc
import LinuxSystem
import PvDCore
import PvDWire

/// RFC 8801 §4: fetching `https://<PvD ID>/.well-known/pvd` through the domain
/// itself. The schedule is PvDCore's ``AdditionalInformationTable``; each fetch
/// is a `pvd fetch-information` child whose exit sd-event reports.
extension Runner {
    /// Fetches running at once, at most.
    static let concurrentFetches = 4
    /// The most of a document (and of curl's messages) read back.
    static let documentLimit = 64 * 1024

    /// Follows the table's PvDs (new ones, sequence changes, gone ones), then starts what is due.
    func trackAdditionalInformation(at now: Double) {
        guard settings.fetchAdditionalInformation else { return }
        let changed = information.track(catalog.table.additionalInformationCandidates(at: now), at: now, random: Runner.random)
        // A changed entry is a new sequence or a PvD gone: a fetch still running is for what was.
        for name in changed {
            fetches.removeValue(forKey: name)?.kill()
        }
        startDueFetches(at: now)
    }

    /// On the timer: drops expired documents and starts due fetches.
    func advanceAdditionalInformation(at now: Double) {
        let expired = information.expire(at: now)
        for name in expired.sorted() { logger.info("domain \(name): additional information expired") }
        if !expired.isEmpty { bus?.announce(expired) }
        startDueFetches(at: now)
    }

    private func startDueFetches(at now: Double) {
        for name in information.due(at: now) where fetches.count < Runner.concurrentFetches {
            guard let entry = information.entries[name] else { continue }
            let url = "https://\(entry.id.description.lowercased())/.well-known/pvd"
            let arguments = [Paths.fetchInformationCommand, name, url] + (settings.certificateAuthorityFile.map { [$0] } ?? [])
            do {
                let child = try ChildProcess.spawn(Runner.fetchHelper, arguments, scratch: stateDirectory)
                try loop.onExit(of: child.pid) { [unowned self] status in self.fetchEnded(name, child, status: status) }
                fetches[name] = child
                information.started(name, at: now)
            } catch {
                logger.error("domain \(name): cannot fetch additional information: \(error)")
                information.started(name, at: now)
                information.finished(name, .failure("\(error)"), at: now, unixTime: SystemClock.unixTime, random: Runner.random)
            }
        }
        rearm(at: now)
    }

    private func fetchEnded(_ name: String, _ child: ChildProcess, status: Int32) {
        let now = loop.now
        let (body, errors) = child.collect(limit: Runner.documentLimit)
        guard fetches[name]?.pid == child.pid else { return }  // stopped: its domain or sequence went
        fetches[name] = nil
        let outcome = Runner.outcome(status: status, body: body, errors: errors)
        let before = information.entries[name]?.status
        if information.finished(name, outcome, at: now, unixTime: SystemClock.unixTime, random: Runner.random),
            let entry = information.entries[name], entry.status != before
        {
            if entry.status == "valid" {
                logger.info("domain \(name): additional information valid until \(RFC3339.format(entry.document?.expires ?? 0))")
            } else {
                logger.warning("domain \(name): additional information: \(entry.status)")
            }
            // Its claims, proxies and noInternet changed with it: org.pvd1 says so (pvd monitor shows it).
            bus?.announce([name])
        }
        saveState()
        startDueFetches(at: now)
    }

    /// What a `pvd fetch-information` run means: its exit status (curl's), stdout (the body)
    /// and stderr (curl's error, then `HTTP <status>`).
    static func outcome(status: Int32, body: [UInt8], errors: [UInt8]) -> AdditionalInformationTable.Outcome {
        let lines = String(decoding: errors, as: UTF8.self).split(separator: "\n").map(String.init)
        if status == 0, let last = lines.last, last.hasPrefix("HTTP "), let code = Int(last.dropFirst(5)) {
            return .answer(status: code, body: body)
        }
        if status == 128 + SIGXFSZ { return .failure("the document is larger than \(documentLimit / 1024) KiB") }
        let message = lines.first { !$0.hasPrefix("HTTP ") } ?? "exit status \(status)"
        return .failure(message.hasPrefix("curl: ") ? String(message.dropFirst(6)) : message)
    }

    /// `pvd`, whose `fetch-information` fetches (``InformationFetch``).
    static var fetchHelper: String {
        Programs.find("pvd") ?? "/usr/bin/pvd"
    }

    /// A uniformly random number in 0...upper.
    static func random(_ upper: Double) -> Double { Double.random(in: 0...max(0, upper)) }
}
