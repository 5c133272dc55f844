import BusWire
import PvDCore
import PvDWire
import Testing

@testable import pvdd

/// What org.pvd1.Domain's properties say of a domain, without a bus.
struct DomainViewTests {
    func corp() -> DomainView {
        var view = DomainView(
            name: "corp", kind: .explicit, origin: .routerAdvertisement, state: DomainState(name: "active", reason: "heard 2 s ago"), namespace: "pvd-corp")
        view.pvdID = "corp.example.com"
        view.sequence = 7
        view.flags = [("H", true), ("L", false)]
        view.lifetime = 1794.6
        var spec = DomainSpec(
            name: "corp", uplink: "up0", addresses: [IPv6Address("2001:db8:1::5")!], routers: [IPv6Address("fe80::11")!],
            routes: [IPv6Prefix("2001:db8:ff::/48")!], dnsServers: [IPv6Address("2001:db8:1::53")!],
            searchDomains: [try! DomainName("corp.example.com")])
        spec.otherUplinks = [UplinkSpec(uplink: "up1", addresses: [IPv6Address("2001:db8:2::5")!], routers: [IPv6Address("fe80::12")!])]
        view.spec = spec
        return view
    }

    @Test func everyPropertyHasItsSignature() {
        let view = corp()
        for property in PvDBusAPI.Property.allCases {
            #expect(view.value(of: property).signature == property.signature, "\(property.rawValue)")
        }
    }

    @Test func aDomainOnTwoUplinksShowsBoth() {
        let view = corp()
        #expect(view.value(of: .uplinks) == .strings(["up0", "up1"]))
        #expect(view.value(of: .addresses) == .strings(["2001:db8:1::5", "2001:db8:2::5"]))
        #expect(view.value(of: .routers) == .strings(["fe80::11", "fe80::12"]))
        #expect(view.value(of: .dnsServers) == .strings(["2001:db8:1::53"]))
        #expect(view.value(of: .searchDomains) == .strings(["corp.example.com"]))
        #expect(view.value(of: .namespacePath) == .string("/run/netns/pvd-corp"))
        #expect(view.value(of: .lifetime) == .uint64(1794), "whole seconds")
        #expect(view.value(of: .state) == .string("active") && view.value(of: .stateReason) == .string("heard 2 s ago"))
        #expect(view.value(of: .origin) == .string("ra") && view.value(of: .kind) == .string("explicit"))
    }

    @Test func aDomainWithoutLifetimeSaysForever() {
        var view = DomainView(name: "lab", kind: .namespace, origin: .runtime, state: DomainState(name: "active", reason: ""), namespace: "lab")
        view.lifetime = .infinity
        #expect(view.value(of: .lifetime) == .uint64(.max))
        #expect(view.value(of: .addresses) == .strings([]))
        #expect(view.value(of: .ipv4) == .boolean(false))
        #expect(view.value(of: .namespacePath) == .string("/run/netns/lab"))
    }
}
