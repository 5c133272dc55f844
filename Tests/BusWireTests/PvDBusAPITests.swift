import Testing

@testable import BusWire

struct PvDBusAPITests {
    @Test(arguments: ["corp.example.com", "eth0-fe80-0-1", "lab_1", "a", "x.y-z_0"])
    func domainPathsRoundTrip(name: String) throws {
        let path = PvDBusAPI.path(ofDomain: name)
        #expect(path.hasPrefix("/org/pvd1/domain/"))
        let label = path.dropFirst("/org/pvd1/domain/".count)
        #expect(label.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }, "an object path label: \(label)")
        #expect(PvDBusAPI.domainName(ofPath: path) == name)
    }

    @Test func pathsAreEscapedAsSystemdDoes() {
        #expect(PvDBusAPI.path(ofDomain: "corp.example.com") == "/org/pvd1/domain/corp_2eexample_2ecom")
        #expect(PvDBusAPI.path(ofDomain: "a-b") == "/org/pvd1/domain/a_2db")
    }

    @Test(arguments: ["/org/pvd1", "/org/pvd1/domain/", "/org/pvd1/domain/a/b", "/org/pvd1/domain/a_2", "/org/pvd1/domain/a_zz", "/elsewhere/x"])
    func otherPathsNameNoDomain(path: String) {
        #expect(PvDBusAPI.domainName(ofPath: path) == nil)
    }

    @Test func signaturesOfNestedValues() {
        #expect(BusValue.dictionary([("uplink", .string("eth0"))]).signature == "a{sv}")
        #expect(BusValue.strings([]).signature == "as")
        #expect(BusValue.array(elementSignature: "(sso)", []).signature == "a(sso)")
        #expect(BusValue.structure([.string("a"), .uint16(1), .objectPath("/x")]).signature == "(sqo)")
    }

    @Test func interfacesDescribeEveryMember() {
        #expect(
            PvDBusAPI.manager.methods.map(\.name).sorted() == [
                "AddDomain", "AddNetworkNamespace", "ApplyState", "CheckpointCreate", "CheckpointDestroy", "CheckpointRollback",
                "ChooseDomain", "CommitStagedState", "DiscardStagedState", "GetDomain", "GetStagedState", "GetState", "ListCheckpoints",
                "ListDomains", "ListPrograms", "OpenDomain", "OpenSocket", "Reload", "RemoveDomain", "ResolveName", "StageRemove",
                "StageState", "Verify",
            ])
        #expect(PvDBusAPI.domain.properties.count == 21)
        #expect(PvDBusAPI.checkpoint.properties.map(\.name) == ["Created", "Expires", "Timeout", "DeclaredState", "DropIns"])
        #expect(PvDBusAPI.checkpointNumber(ofPath: PvDBusAPI.path(ofCheckpoint: 42)) == 42)
        for path in [
            "/org/pvd1/checkpoint/0", "/org/pvd1/checkpoint/01", "/org/pvd1/checkpoint/x", "/org/pvd1/checkpoint/", "/org/pvd1/checkpoint/99999999999",
        ] {
            #expect(PvDBusAPI.checkpointNumber(ofPath: path) == nil, "\(path)")
        }
    }
}
