import Glibc
import Testing

@testable import PvDExec

/// Where `/etc/resolv.conf` leads, as `pvd exec` binds the domain's file over it.
struct ResolvedPathTests {
    /// systemd-resolved's link on Debian is relative: `../run/systemd/resolve/stub-resolv.conf`.
    @Test func aRelativeLinkEndsAtACanonicalPath() throws {
        var template = Array("/tmp/pvd-resolved-XXXXXX".utf8CString)
        let root = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
        defer {
            for path in ["\(root)/etc/resolv.conf", "\(root)/run/resolve/stub-resolv.conf"] { unlink(path) }
            for path in ["\(root)/etc", "\(root)/run/resolve", "\(root)/run", root] { rmdir(path) }
        }
        for directory in ["\(root)/etc", "\(root)/run", "\(root)/run/resolve"] { #expect(mkdir(directory, 0o755) == 0) }
        #expect(symlink("../run/resolve/stub-resolv.conf", "\(root)/etc/resolv.conf") == 0)
        #expect(DomainEntry.resolvedPath("\(root)/etc/resolv.conf") == "\(root)/run/resolve/stub-resolv.conf", "the stub file need not exist")
        #expect(DomainEntry.resolvedPath("\(root)/etc/../etc/hosts") == "\(root)/etc/hosts")
        #expect(DomainEntry.resolvedPath("/nonexistent/dir/file") == "/nonexistent/dir/file")
    }
}
