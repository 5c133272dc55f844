/// A candidate declared state that changes accumulate in over several calls
/// (`pvd stage`), then applied as one transaction (`pvd commit`), as a
/// router's candidate configuration is. It remembers the declared state it
/// was made from: committing it onto a state that changed meanwhile is
/// refused with what changed, so no one's change is undone unseen.
public struct StagedState: Equatable, Sendable {
    /// The declared state when the first change was staged.
    public let base: DeclarativeState
    /// The declared state the staged changes make.
    public private(set) var candidate: DeclarativeState

    /// The entries a candidate may hold: what pvdd keeps in memory for it is bounded.
    public static let maximumEntries = 1024

    public init(base: DeclarativeState) {
        self.base = base
        candidate = base
    }

    /// Puts every entry of `entries` into the candidate, replacing the
    /// entry of the same name, whatever its kind (a static domain may become
    /// a VPN domain). Entries it does not name stay.
    public mutating func put(_ entries: DeclarativeState) throws(StagingError) {
        let names = Set(entries.names)
        guard Set(candidate.names).union(names).count <= StagedState.maximumEntries else {
            throw StagingError("a candidate holds at most \(StagedState.maximumEntries) entries")
        }
        candidate = DeclarativeState(
            domains: candidate.domains.filter { !names.contains($0.name) } + entries.domains,
            vpns: candidate.vpns.filter { !names.contains($0.name) } + entries.vpns,
            namespaces: candidate.namespaces.filter { !names.contains($0) } + entries.namespaces)
    }

    /// Takes the entry `name` out of the candidate.
    public mutating func remove(_ name: String) throws(StagingError) {
        guard candidate.names.contains(name) else {
            throw StagingError("the candidate declares no \(name); it declares \(candidate.names.sorted().joined(separator: ", "))")
        }
        candidate = DeclarativeState(
            domains: candidate.domains.filter { $0.name != name }, vpns: candidate.vpns.filter { $0.name != name },
            namespaces: candidate.namespaces.filter { $0 != name })
    }

    /// What committing it changes, from the state it was made from.
    public var changes: [DeclarativeState.Change] { base.changes(to: candidate) }

    /// What changed in the declared state since the candidate was made
    /// (empty: it may be committed onto `current`).
    public func changedMeanwhile(current: DeclarativeState) -> [DeclarativeState.Change] {
        base.changes(to: current)
    }
}

/// A staged change that cannot be made, with why.
public struct StagingError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
