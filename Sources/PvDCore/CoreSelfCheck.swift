/// The properties the state loader's fuzz target checks, and `swift test`
/// checks again on its corpus: whatever the bytes, reading a state file
/// returns, and keeps only entries a D-Bus caller could have made.
public enum CoreSelfCheck {
    /// Nil when the property holds for `bytes` read as a state file, else what broke.
    public static func savedState(_ bytes: [UInt8]) -> String? {
        let state = SavedState(bytes: bytes, empty: DomainTable(secret: [1]))
        let chosen = state.statics.map(\.name) + state.namespaces + state.vpns.map(\.name)
        if let bad = chosen.first(where: { (try? DomainNaming.validateChosen($0)) == nil }) { return "kept the name \(bad)" }
        if Set(chosen).count != chosen.count { return "kept a name twice" }
        if let vpn = state.vpns.first(where: { !($0.pid.map { $0 >= 2 && Int64($0) <= SavedState.maximumPID } ?? true) || !$0.config.hasPrefix("/") }) {
            return "kept the VPN \(vpn)"
        }
        for domain in state.table.domains.values {
            if (try? DomainNaming.validate(domain.name)) == nil || chosen.contains(domain.name) { return "kept the learnt domain \(domain.name)" }
        }
        if state.table.domains.count > state.table.limits.maximumDomains { return "kept more domains than the limit" }
        return nil
    }
}
