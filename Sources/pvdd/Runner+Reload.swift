import BusWire
import PvDConfig
import PvDCore

/// Reload: the configuration files read again and applied as one transaction.
extension Runner {
    /// Makes what the files declare real, keeping what was added at runtime;
    /// all or nothing.
    func applyFileDeclared(_ files: DeclarativeState) throws(BusError) {
        try applyDeclared(catalog.replacingFileDeclared(with: files), files: Set(files.names))
    }

    /// Reload (SIGHUP, Reload, `pvd reload`): reads the configuration files
    /// again and applies access, aliases, published ports and declared
    /// domains as one transaction; a file that does not read leaves
    /// everything as it was.
    func reload() throws(ConfigurationError) {
        let files = try readFiles()
        do { try applyFileDeclared(files.declared) } catch { throw ConfigurationError("", error.message) }
        declaredInFiles = files.declared
        let now = loop.now
        if files.settings.aliases != settings.aliases {
            // The table read back with the new aliases: renamed domains go and come back under their new name.
            let before = Set(catalog.table.domains.values.map(\.name))
            var renamed = settings
            renamed.aliases = files.settings.aliases
            let fresh = Runner.emptyTable(renamed)
            if let table = try? DomainTable(
                state: catalog.table.state, limits: fresh.limits, secret: fresh.secret, gracePeriod: fresh.gracePeriod,
                aliases: fresh.aliases, attachments: fresh.attachments, addressProbeTime: fresh.addressProbeTime,
                reservedNames: catalog.reservedNames)
            {
                var reloaded = table
                _ = reloaded.setIPv4Uplinks(self.catalog.table.ipv4Uplinks, at: now)
                self.catalog.table = reloaded
            }
            push(before.union(catalog.table.domains.values.map(\.name)), at: now)
        }
        if files.settings.ports != catalog.table.publishedPorts {
            let affected = Set(files.settings.ports.keys).union(catalog.table.publishedPorts.keys)
            catalog.table.publishedPorts = files.settings.ports
            push(affected.intersection(catalog.table.domains.values.map(\.name)), at: now)
        }
        let unchanged = ["uplinks", "grace-period", "duplicate-address-detection", "ipv6-forwarding", "state", "attachment"]
        var kept = files.settings
        kept.uplinks = settings.uplinks
        kept.gracePeriod = settings.gracePeriod
        kept.duplicateAddressDetection = settings.duplicateAddressDetection
        kept.forwarding = settings.forwarding
        kept.statePath = settings.statePath
        kept.attachments = settings.attachments
        if kept != files.settings { logger.warning("reload: \(unchanged.joined(separator: ", ")) take effect at the next start") }
        settings = kept
        logger.info("reloaded the configuration")
    }
}
