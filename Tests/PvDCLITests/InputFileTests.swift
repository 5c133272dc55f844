import Testing

@testable import pvd_cli

/// Files the command line reads (pvd apply, pvd announce --config, pvd ra decode).
struct InputFileTests {
    @Test func anEndlessFileIsCutOffAtItsLimitWithAnErrorThatNamesIt() {
        do {
            _ = try readFile("/dev/zero", limit: 1000)
            Issue.record("an endless file was read")
        } catch {
            #expect(error.description == "/dev/zero: longer than 1000 bytes; pvd reads at most that")
        }
    }

    @Test func aFileWithinItsLimitIsReadWholeAndAMissingOneIsNamed() throws {
        #expect(try readFile("/dev/null", limit: 10).isEmpty)
        #expect(try readFile("/proc/self/stat", limit: 1 << 20).count > 10)
        do {
            _ = try readFile("/nonexistent/pvd.yaml", limit: 10)
            Issue.record("a missing file was read")
        } catch {
            #expect(error.description == "/nonexistent/pvd.yaml: No such file or directory")
        }
    }
}
