import BusWire
import PvDConfig
import PvDCore

/// The staged candidate (`pvd stage`, `pvd commit`): changes gathered over
/// several calls, applied as one transaction. pvdd keeps one candidate, in
/// memory: a restart discards it as an uncommitted transaction is.
extension Runner {
    /// StageState: puts the entries of `text` (YAML, as `pvd apply` reads)
    /// into the candidate; what committing it would change.
    func stage(_ text: String) throws(BusError) -> [String] {
        let entries: DeclarativeState
        do { entries = try DeclarativeState(try YAMLDocument.parse(text)) } catch {
            throw BusError(PvDBusAPI.ErrorName.invalidArguments, "the staged state: \(error)")
        }
        var candidate = staged ?? StagedState(base: catalog.declared)
        do { try candidate.put(entries) } catch { throw BusError(PvDBusAPI.ErrorName.invalidArguments, error.description) }
        staged = candidate
        return candidate.changes.map(\.description)
    }

    /// StageRemove: takes `name` out of the candidate.
    func unstage(_ name: String) throws(BusError) -> [String] {
        var candidate = staged ?? StagedState(base: catalog.declared)
        do { try candidate.remove(name) } catch { throw BusError(PvDBusAPI.ErrorName.unknownDomain, error.description) }
        staged = candidate
        return candidate.changes.map(\.description)
    }

    /// CommitStagedState: the candidate as one transaction (all or nothing);
    /// refused when the declared state changed since the candidate was made.
    func commitStaged() throws(BusError) -> [String] {
        guard let candidate = staged else { throw BusError(PvDBusAPI.ErrorName.notFound, "nothing is staged (pvd stage FILE|add|remove)") }
        let meanwhile = candidate.changedMeanwhile(current: catalog.declared)
        guard meanwhile.isEmpty else {
            throw BusError(
                PvDBusAPI.ErrorName.stale,
                "the declared state changed since the candidate was made (\(meanwhile.map(\.description).joined(separator: "; "))); "
                    + "nothing was applied: pvd stage discard, then stage again")
        }
        let changes = try applyDeclared(candidate.candidate).map(\.description)
        staged = nil
        return changes
    }
}
