import Testing

@testable import PvDWire

struct DNSMessageTests {
    let name = try! DomainName("www.corp.test")
    let question: [UInt8] = [3, 119, 119, 119, 4, 99, 111, 114, 112, 4, 116, 101, 115, 116, 0]

    /// A response to the query for `name` with `answers` records after the question.
    func response(id: UInt16 = 0x1234, flags: UInt16 = 0x8180, type: UInt16 = 28, count: UInt16, _ answers: [UInt8]) -> [UInt8] {
        [UInt8(id >> 8), UInt8(id & 0xFF), UInt8(flags >> 8), UInt8(flags & 0xFF), 0, 1, UInt8(count >> 8), UInt8(count & 0xFF), 0, 0, 0, 0]
            + question + [UInt8(type >> 8), UInt8(type & 0xFF), 0, 1] + answers
    }

    func record(type: UInt16, data: [UInt8], name: [UInt8] = [0xC0, 12]) -> [UInt8] {
        name + [UInt8(type >> 8), UInt8(type & 0xFF), 0, 1, 0, 0, 0, 60, UInt8(data.count >> 8), UInt8(data.count & 0xFF)] + data
    }

    @Test func queryAsksRecursivelyForOneNameOfClassIN() {
        let query = DNSMessage.query(id: 0xBEEF, name: name, type: .aaaa)
        #expect(query == [0xBE, 0xEF, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0] + question + [0, 28, 0, 1])
    }

    @Test func answerGivesTheAddressesOfTheAskedTypeAfterACNAME() throws {
        let address: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [1]
        let cname = record(type: 5, data: [3, 119, 119, 119, 0xC0, 16])
        let answer = try DNSMessage.answer(response(count: 2, cname + record(type: 28, data: address)), id: 0x1234, name: name, type: .aaaa)
        #expect(answer == DNSMessage.Answer(responseCode: 0, addresses: [address]))
        #expect(!answer.nameHasNoAddress)
    }

    @Test func nxdomainAndAnEmptyAnswerMeanNoAddress() throws {
        #expect(try DNSMessage.answer(response(flags: 0x8183, count: 0, []), id: 0x1234, name: name, type: .aaaa).nameHasNoAddress)
        #expect(try DNSMessage.answer(response(count: 0, []), id: 0x1234, name: name, type: .aaaa).nameHasNoAddress)
        let failure = try DNSMessage.answer(response(flags: 0x8182, count: 0, []), id: 0x1234, name: name, type: .aaaa)
        #expect(!failure.succeeded && !failure.nameHasNoAddress, "SERVFAIL: ask another server")
    }

    @Test func questionsAreComparedWithoutCase() throws {
        let upper = try DomainName("WWW.Corp.TEST")
        #expect(try DNSMessage.answer(response(count: 0, []), id: 0x1234, name: upper, type: .aaaa).addresses.isEmpty)
    }

    @Test func anAnswerToAnotherQueryIsRefusedWithItsOffset() {
        #expect(throws: DNSMessageError(.unexpected("another query's id"), at: 0)) {
            try DNSMessage.answer(response(count: 0, []), id: 1, name: name, type: .aaaa)
        }
        #expect(throws: DNSMessageError(.unexpected("a query, not a response"), at: 2)) {
            try DNSMessage.answer(response(flags: 0x0100, count: 0, []), id: 0x1234, name: name, type: .aaaa)
        }
        #expect(throws: DNSMessageError(.unexpected("another question"), at: 12)) {
            try DNSMessage.answer(response(type: 1, count: 0, []), id: 0x1234, name: name, type: .aaaa)
        }
        #expect(throws: DNSMessageError(.unexpected("a truncated response"), at: 2)) {
            try DNSMessage.answer(response(flags: 0x8380, count: 0, []), id: 0x1234, name: name, type: .aaaa)
        }
    }

    @Test func everyLengthIsChecked() {
        let address = [UInt8](repeating: 1, count: 16)
        let whole = response(count: 1, record(type: 28, data: address))
        for length in 0..<whole.count {
            #expect(throws: DNSMessageError.self) { try DNSMessage.answer(Array(whole.prefix(length)), id: 0x1234, name: name, type: .aaaa) }
        }
        #expect(throws: DNSMessageError(.unexpected("an address of 4 octets"), at: whole.count - 16)) {
            try DNSMessage.answer(response(count: 1, record(type: 28, data: [1, 2, 3, 4])), id: 0x1234, name: name, type: .aaaa)
        }
    }

    @Test func pointersMustLeadBackwardsSoThatNoneLoops() {
        let start = 12 + 15 + 4
        let loop = response(count: 1, [0xC0, UInt8(start + 2), 0xC0, UInt8(start)])
        #expect(throws: DNSMessageError(.badName("a pointer that does not lead backwards"), at: start)) {
            try DNSMessage.answer(loop, id: 0x1234, name: name, type: .aaaa)
        }
        #expect(throws: DNSMessageError(.badName("label type 1"), at: start)) {
            try DNSMessage.answer(response(count: 1, [0x40]), id: 0x1234, name: name, type: .aaaa)
        }
    }

    @Test func answersOverTheBoundAreRefused() {
        #expect(throws: DNSMessageError(.unexpected("65 answers"), at: 6)) {
            try DNSMessage.answer(response(count: 65, []), id: 0x1234, name: name, type: .aaaa)
        }
    }
}

struct AdditionalInformationKeysTests {
    let head = #"{"identifier":"corp.example.com","expires":"2099-01-01T00:00:00Z","prefixes":["2001:db8::/32"]"#

    func parse(_ rest: String) throws(AdditionalInformationError) -> PvDAdditionalInformation {
        try PvDAdditionalInformation.parse(Array((head + rest + "}").utf8))
    }

    @Test func claimsProxiesAndUnknownKeysAreReadAndKept() throws {
        let document = try parse(
            #","splitDnsClaims":["example.com"],"proxies":[{"protocol":"http-connect","proxy":"p.example.com:3128","identifier":"p"}],"#
                + #""proxy-match":[{"domains":["*.direct.example.com"],"proxies":[]}],"x-new":{"a":[1,2]}"#)
        #expect(document.splitDnsClaims.map(\.description) == ["example.com"])
        #expect(document.proxies == [.init(protocolName: "http-connect", location: "p.example.com:3128", identifier: "p")])
        #expect(document.proxyMatch == [.init(domains: ["*.direct.example.com"], proxies: [])])
        #expect(document.otherKeys.map(\.key) == ["x-new"])
        #expect(try PvDAdditionalInformation.parse(Array(document.json.serialized.utf8)) == document, "kept through the state file")
    }

    @Test func badEntriesAreRefusedWithTheirKey() {
        #expect(throws: AdditionalInformationError.wrongType(key: "proxies", expected: "an array of objects")) { try parse(#","proxies":["p:1"]"#) }
        #expect(throws: AdditionalInformationError.invalidValue(key: "proxies", "each proxy needs \"protocol\" and \"proxy\"")) {
            try parse(#","proxies":[{"protocol":"http-connect"}]"#)
        }
        #expect(throws: AdditionalInformationError.self) { try parse(#","splitDnsClaims":["."]"#) }
        #expect(throws: AdditionalInformationError.self) { try parse(#","proxy-match":[{"domains":"x"}]"#) }
        #expect(throws: AdditionalInformationError.self) { try parse(#","proxies":[{"protocol":"pac","proxy":""}]"#) }
    }
}
