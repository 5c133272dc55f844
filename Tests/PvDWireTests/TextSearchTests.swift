import PvDWire
import Testing

/// Text searched for text, as the standard library without `_StringProcessing` cannot.
struct TextSearchTests {
    @Test func findsTheFirstOccurrence() throws {
        let text = "2001:db8::1::"
        let range = try #require(text.range(ofText: "::"))
        #expect(text[..<range.lowerBound] == "2001:db8")
        #expect("aab".range(ofText: "ab").map { "aab"[$0] } == "ab")
        #expect("abc".range(ofText: "abcd") == nil)
        #expect("abc".contains(text: "bc"))
        #expect(!"abc".contains(text: "cb"))
        #expect("café".contains(text: "cafe\u{301}"))  // characters, not bytes
    }

    @Test func splitsAndReplacesEveryOccurrence() {
        #expect("a, b,, c".split(separatorText: ", ") == ["a", "b,", "c"])
        #expect(",,".split(separatorText: ",") == ["", "", ""])
        #expect("x".split(separatorText: "") == ["x"])
        #expect("--profile {profile} -P {profile}".replacing(text: "{profile}", with: "/p") == "--profile /p -P /p")
    }
}
