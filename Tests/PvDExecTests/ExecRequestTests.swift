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

    @Test func withoutACommandTheShellAndOptionsAfterTheName() {
        #expect(ExecRequest.parse(["corp"]) == ExecRequest(asRoot: false, name: "corp", command: []))
        #expect(ExecRequest.parse(["corp", "--"]) == ExecRequest(asRoot: false, name: "corp", command: []))
        #expect(ExecRequest.parse(["corp", "--as-root", "-q", "--", "id"]) == ExecRequest(asRoot: true, quiet: true, name: "corp", command: ["id"]))
        #expect(ExecRequest.parse(["--quiet", "corp", "id"]) == ExecRequest(asRoot: false, quiet: true, name: "corp", command: ["id"]))
    }

    @Test func forTakesADestinationAndSurvivesTheHandOver() {
        let request = ExecRequest.parse(["--for", "https://intranet.corp.test/", "--", "curl", "-s"])
        #expect(request == ExecRequest(asRoot: false, forDestination: true, name: "https://intranet.corp.test/", command: ["curl", "-s"]))
        #expect(request.flatMap { ExecRequest.parse($0.arguments) } == request, "pvd-cli hands it back to pvd as it came")
    }

    @Test(arguments: [[], ["--as-root"], ["-x", "corp", "--", "id"], ["corp", "-v", "id"], ["--", "id"]])
    func anythingElseIsNotARequest(arguments: [String]) {
        #expect(ExecRequest.parse(arguments) == nil, "\(arguments)")
    }

    @Test func argumentsRoundTrip() {
        for request in [
            ExecRequest(asRoot: true, name: "a", command: ["b", "--", "-c"]), ExecRequest(asRoot: false, quiet: true, name: "lab_1", command: ["sh"]),
            ExecRequest(asRoot: false, name: "x", command: []),
        ] {
            #expect(ExecRequest.parse(request.arguments) == request)
        }
    }
}

/// A browser's own profile per domain.
struct BrowserProfileTests {
    @Test func firefoxAndChromiumGetADirectoryPerDomain() throws {
        let firefox = try #require(BrowserProfile(command: ["firefox-esr", "https://intranet"], domain: "corp", home: "/home/alice", extra: [:]))
        #expect(firefox.directory == "/home/alice/.local/share/pvd/profiles/corp/firefox-esr")
        #expect(firefox.command == ["firefox-esr", "--profile", firefox.directory, "https://intranet"])
        let chromium = try #require(BrowserProfile(command: ["/usr/bin/chromium"], domain: "corp", home: "/home/alice", extra: [:]))
        #expect(chromium.command == ["/usr/bin/chromium", "--user-data-dir=/home/alice/.local/share/pvd/profiles/corp/chromium"])
    }

    @Test func aChosenProfileOrAnotherProgramIsLeftAlone() {
        #expect(BrowserProfile(command: ["firefox", "-P", "work"], domain: "corp", home: "/home/alice", extra: [:]) == nil)
        #expect(BrowserProfile(command: ["chromium", "--user-data-dir=/tmp/x"], domain: "corp", home: "/home/alice", extra: [:]) == nil)
        #expect(BrowserProfile(command: ["curl", "https://x"], domain: "corp", home: "/home/alice", extra: [:]) == nil)
        #expect(BrowserProfile(command: ["firefox"], domain: "../x", home: "/home/alice", extra: [:]) == nil)
    }

    @Test func othersComeFromTheUsersList() throws {
        let mail = try #require(BrowserProfile(command: ["thunderbird"], domain: "corp", home: "/h", extra: ["thunderbird": ["--profile", "{profile}"]]))
        #expect(mail.command == ["thunderbird", "--profile", "/h/.local/share/pvd/profiles/corp/thunderbird"])
    }
}

/// Which programs get the note about another instance running outside.
struct HandOverTests {
    @Test func browsersAndKnownDesktopProgramsHandOverOthersDoNot() {
        for program in ["firefox-esr", "chromium", "thunderbird", "soffice"] {
            #expect(HandOver.applies(to: program, home: "/home/alice", extra: []))
        }
        for program in ["python3", "bash", "sleep", "curl"] { #expect(!HandOver.applies(to: program, home: "/home/alice", extra: [])) }
    }

    @Test func theUsersListAddsPrograms() {
        #expect(HandOver.applies(to: "sleep", home: "/home/alice", extra: ["sleep"]))
        #expect(!HandOver.applies(to: "sleep", home: "relative", extra: ["sleep"]))
    }
}
