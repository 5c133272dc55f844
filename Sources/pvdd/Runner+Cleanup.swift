import HostNet
import LinuxSystem
import PvDCore

extension Runner {
    /// `pvdd --cleanup`: removes every domain, namespace and VPN client of
    /// the saved state and every domain pvd registered in this network
    /// namespace, with what they changed on the host, and the state file.
    static func cleanup(_ settings: DaemonConfiguration) -> Int32 {
        do {
            let host = try KernelHostNet()
            host.forwarding = settings.forwarding
            var catalog = DomainCatalog(table: emptyTable(settings))
            if let bytes = try? HostFiles.readOwnFile(settings.statePath, limit: SavedState.maximumBytes) {
                catalog = DomainCatalog(saved: SavedState(bytes: bytes, empty: catalog.table), namespaceExists: host.namespaceExists)
            }
            stopClients(catalog.vpns)
            for name in catalog.namespaces.sorted() {
                do { try host.deleteNamespace(name) } catch { logger.error("\(error)") }
            }
            let removed = try host.removeLeftovers(keeping: [])
            try KernelHostNet.unpublishOwnNamespace(DaemonBus.rootNamespace)
            let path = settings.statePath
            if let slash = path.lastIndex(of: "/") {
                try HostFiles.remove(directory: String(path[..<slash]), name: String(path[path.index(after: slash)...]))
            }
            logger.info("cleaned up: \(removed.count) domain(s), \(catalog.namespaces.count) namespace(s), \(catalog.vpns.count) VPN client(s)")
            return 0
        } catch {
            logger.error("cleanup: \(error)")
            return 1
        }
    }
}
