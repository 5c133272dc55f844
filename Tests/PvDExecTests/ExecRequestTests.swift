import Testing

@testable import PvDExec

/// `pvd exec`'s command line, read without entering anything.
struct ExecRequestTests {
    @Test func theUsualForms() {
        #expect(
            ExecRequest.parse(["corp", "--", "firefox", "--new-window"]) == ExecRequest(asRoot: false, name: "corp", command: ["firefox", "--new-window"]))
        #expect(ExecRequest.parse(["corp", "ping", "-c1", "x"]) == ExecRequest(asRoot: false, name: "corp", command: ["ping", "-c1", "x"]))
        #expect(ExecRequest.parse(["--as-root", "corp", "--", "id"]) == ExecRequest(asRoot: true, name: "corp", command: ["id"]))
    }

    @Test func theCommandsOwnOptionsAreItsOwn() {
        let request = ExecRequest.parse(["corp", "--", "--as-root", "--", "x"])
        #expect(request?.command == ["--as-root", "--", "x"] && request?.asRoot == false)
    }

    @Test(arguments: [[], ["corp"], ["corp", "--"], ["--as-root"], ["-x", "corp", "--", "id"], ["corp", "-v", "id"], ["--", "id"]])
    func anythingElseIsNotARequest(arguments: [String]) {
        #expect(ExecRequest.parse(arguments) == nil, "\(arguments)")
    }

    @Test func argumentsRoundTrip() {
        for request in [ExecRequest(asRoot: true, name: "a", command: ["b", "--", "-c"]), ExecRequest(asRoot: false, name: "lab_1", command: ["sh"])] {
            #expect(ExecRequest.parse(request.arguments) == request)
        }
    }
}
