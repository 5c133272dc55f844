import PvDCore

/// The kernel changes of one apply, each with its undo. On failure the steps
/// already done are undone in reverse order, so the host is left as it was.
final class Transaction {
    private var undos: [(description: String, undo: () throws(SystemError) -> Void)] = []
    /// Fault injection for tests: the step with this number (from 1) fails.
    private let failAtStep: Int?
    /// Steps done so far.
    private(set) var count = 0

    init(failAtStep: Int? = nil) {
        self.failAtStep = failAtStep
    }

    /// Does one change and remembers how to undo it.
    func step(
        _ name: String, _ object: String, _ change: () throws(SystemError) -> Void,
        undo: @escaping () throws(SystemError) -> Void
    ) throws(SystemError) {
        count += 1
        if count == failAtStep {
            throw SystemError(step: name, object: object, reason: "injected failure at step \(count)")
        }
        try change()
        undos.append(("\(name) \(object)", undo))
    }

    /// What the steps done changed, in order ("add route …").
    var changes: [String] { undos.map(\.description) }

    /// Undoes every step done, newest first; returns the undos that failed.
    func rollback() -> [SystemError] {
        var failures: [SystemError] = []
        for entry in undos.reversed() {
            do { try entry.undo() } catch { failures.append(error) }
        }
        undos.removeAll()
        return failures
    }
}
