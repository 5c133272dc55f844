import BusWire
import LinuxSystem
import PvDConfig
import PvDCore

/// Checkpoints (org.pvd1 CheckpointCreate, CheckpointRollback,
/// CheckpointDestroy; `pvd apply --confirm-within`): one at a time, kept in
/// the state file, rolled back by the daemon's own timer when its time runs
/// out, whoever asked for it and whether or not they are still there.
///
/// One at a time, because a rollback brings back the whole declared state:
/// two checkpoints pending would each undo the other's change.
extension Runner {
    /// How long a rollback that failed waits before it is tried again.
    static let rollbackRetry = 10.0

    /// Makes the checkpoint: the declared state and the drop-in files as they are now.
    func createCheckpoint(timeout: UInt32) throws(BusError) -> Checkpoint {
        if let refusal = Checkpoint.refusal(ofTimeout: timeout) { throw BusError(PvDBusAPI.ErrorName.invalidArguments, refusal) }
        let now = loop.now
        if let checkpoint {
            throw BusError(
                PvDBusAPI.ErrorName.exists,
                "checkpoint \(PvDBusAPI.path(ofCheckpoint: checkpoint.number)) is pending for \(Int(checkpoint.expires - now)) s more; "
                    + "confirm it (pvd confirm) or roll it back (pvd rollback) first")
        }
        let dropIns = try readDropIns()
        let names = catalog.declared.names.prefix(Checkpoint.maximumDomains)
        lastCheckpoint = lastCheckpoint == .max ? 1 : lastCheckpoint + 1
        let made = Checkpoint(
            number: lastCheckpoint, declared: catalog.declared.yaml, fromFiles: Array(catalog.fromFiles), dropIns: dropIns,
            kernel: Dictionary(uniqueKeysWithValues: names.map { ($0, kernelSnapshot(of: $0)) }), timeout: timeout, at: now)
        checkpoint = made
        saveState()
        rearm(at: now)
        logger.info("checkpoint \(made.number): made; rolled back in \(timeout) s unless confirmed")
        return made
    }

    /// CheckpointDestroy: the changes since stay.
    func confirmCheckpoint(_ number: UInt32) throws(BusError) {
        _ = try pendingCheckpoint(number)
        checkpoint = nil
        rollbackRetryAt = nil
        saveState()
        rearm(at: loop.now)
        bus?.emit(.checkpointConfirmed, [.objectPath(PvDBusAPI.path(ofCheckpoint: number))])
        logger.info("checkpoint \(number): confirmed")
    }

    /// Brings back the checkpoint's declared state and drop-in files (the
    /// domains that did not change are not touched), then forgets it;
    /// returns what the rollback changed.
    @discardableResult
    func rollBack(_ number: UInt32, reason: String) throws(BusError) -> [String] {
        let held = try pendingCheckpoint(number)
        let target: DeclarativeState
        do { target = try DeclarativeState(try YAMLDocument.parse(held.declared)) } catch {
            throw BusError(PvDBusAPI.ErrorName.failed, "checkpoint \(number)'s declared state does not read: \(error)")
        }
        // The namespaces of what came after the checkpoint, which the rollback removes.
        let later = catalog.declared.names.filter { held.kernel[$0] == nil }.map {
            (name: $0, namespace: catalog.namespace(of: $0) ?? DomainNaming.namespace(ofDomain: $0))
        }
        let rewritten = restoreDropIns(held.dropIns)
        let changes = try applyDeclared(target, files: Set(held.fromFiles)).map(\.description)
        if rewritten {
            do { try reload() } catch { logger.warning("checkpoint \(number): the drop-ins are back, but reading them again failed: \(error)") }
        }
        checkpoint = nil
        rollbackRetryAt = nil
        saveState()
        rearm(at: loop.now)
        var reason = reason
        var differing = held.kernel.sorted { $0.key < $1.key }.compactMap { name, before in
            let found = kernelSnapshot(of: name).differences(from: before)
            return found.isEmpty ? nil : "\(name): \(found.joined(separator: "; "))"
        }
        differing += later.filter { catalog.kind(of: $0.name) == nil && host.namespaceExists($0.namespace) }.map {
            "\($0.name): its namespace \($0.namespace) is still there"
        }
        if !differing.isEmpty {
            logger.warning("checkpoint \(number): the kernel is not as it was: \(differing.joined(separator: " | "))")
            reason += "; the kernel is not as it was for " + differing.joined(separator: " | ")
        }
        bus?.emit(.checkpointRolledBack, [.objectPath(PvDBusAPI.path(ofCheckpoint: number)), .string(reason), .strings(changes)])
        logger.info("checkpoint \(number): rolled back (\(reason)): \(changes.isEmpty ? "nothing had changed" : changes.joined(separator: "; "))")
        return changes
    }

    /// The timer's part: the pending checkpoint whose time ran out is rolled
    /// back; one whose rollback fails is tried again every 10 s.
    func rollBackIfDue(at now: Double) {
        guard let checkpoint, checkpoint.isDue(at: now), rollbackRetryAt.map({ $0 <= now }) ?? true else { return }
        do { try rollBack(checkpoint.number, reason: "its \(checkpoint.timeout) s ran out without a confirmation") } catch {
            logger.error("checkpoint \(checkpoint.number): rolling back failed, trying again in \(Int(Runner.rollbackRetry)) s: \(error.message)")
            rollbackRetryAt = now + Runner.rollbackRetry
        }
    }

    /// What the kernel has for the declared domain `name`: a VPN domain's
    /// namespace only (its tunnel comes and goes with its server).
    private func kernelSnapshot(of name: String) -> ObservedDomain {
        let namespace = catalog.namespace(of: name) ?? DomainNaming.namespace(ofDomain: name)
        guard catalog.kind(of: name) != .vpn else { return ObservedDomain(namespaceExists: host.namespaceExists(namespace)) }
        return observeKernel(namespace: namespace)
    }

    /// When the timer is due for the checkpoint.
    var nextCheckpointEvent: Double? {
        guard let checkpoint else { return nil }
        return max(checkpoint.expires, rollbackRetryAt ?? checkpoint.expires)
    }

    private func pendingCheckpoint(_ number: UInt32) throws(BusError) -> Checkpoint {
        guard let checkpoint, checkpoint.number == number else {
            throw BusError(
                PvDBusAPI.ErrorName.notFound,
                "no checkpoint \(PvDBusAPI.path(ofCheckpoint: number)) is pending"
                    + (checkpoint.map { "; \(PvDBusAPI.path(ofCheckpoint: $0.number)) is" } ?? " (it was confirmed or rolled back)"))
        }
        return checkpoint
    }

    /// The drop-ins of `directory` a checkpoint keeps, and so the only ones a
    /// rollback removes: a name it cannot hold is left alone both ways.
    private func heldDropIns(in directory: String) -> [String] {
        HostFiles.entries(of: directory).filter { ConfigurationFiles.isDropIn($0) && Checkpoint.refusal(ofDropIn: $0) == nil }
    }

    /// The drop-in directory's YAML files, by name.
    private func readDropIns() throws(BusError) -> [String: String] {
        guard let dropInDirectory else { return [:] }
        var files: [String: String] = [:]
        var bytes = 0
        for name in heldDropIns(in: dropInDirectory) {
            guard let text = HostFiles.read("\(dropInDirectory)/\(name)", limit: YAMLLimits.maximumBytes + 1) else {
                throw BusError(PvDBusAPI.ErrorName.failed, "cannot read \(dropInDirectory)/\(name) for the checkpoint")
            }
            bytes += text.utf8.count
            guard bytes <= Checkpoint.maximumDropInBytes else {
                throw BusError(
                    PvDBusAPI.ErrorName.failed, "the drop-ins in \(dropInDirectory) hold more than a checkpoint keeps (\(Checkpoint.maximumDropInBytes) bytes)")
            }
            files[name] = text
        }
        return files
    }

    /// Makes the drop-in directory's YAML files those of `files`; whether any changed.
    private func restoreDropIns(_ files: [String: String]) -> Bool {
        guard let dropInDirectory else { return false }
        var changed = false
        for name in heldDropIns(in: dropInDirectory) where files[name] == nil {
            do { try HostFiles.remove(directory: dropInDirectory, name: name) } catch { logger.error("checkpoint: \(error)") }
            changed = true
        }
        for (name, text) in files.sorted(by: { $0.key < $1.key }) where HostFiles.read("\(dropInDirectory)/\(name)", limit: YAMLLimits.maximumBytes + 1) != text
        {
            do { try HostFiles.writeAtomically(directory: dropInDirectory, name: name, contents: text) } catch { logger.error("checkpoint: \(error)") }
            changed = true
        }
        return changed
    }
}
