import Glibc

/// The processes under /proc, read without allocating a view of each.
public enum ProcessTable {
    /// The first pid for which `matches` (given /proc's descriptor and the pid as text) holds.
    public static func first(where matches: (Int32, String) -> Bool) -> String? {
        guard let directory = opendir("/proc") else { return nil }
        defer { closedir(directory) }
        let proc = dirfd(directory)
        while let entry = readdir(directory) {
            let pid = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let first = pid.utf8.first, first >= UInt8(ascii: "1"), first <= UInt8(ascii: "9") else { continue }
            if matches(proc, pid) { return pid }
        }
        return nil
    }

    /// The pids of `uid`'s processes whose executable is called `program`
    /// (a browser's wrapper script and the binary it starts share the name).
    /// One readlink per process: kernel threads have no executable, and
    /// other users' processes are not readable unless the caller is root.
    public static func processes(running program: String, uid: uid_t) -> [String] {
        let name = Array(program.utf8)
        let deleted = Array(" (deleted)".utf8)
        var path = [UInt8](repeating: 0, count: Int(PATH_MAX))
        var found: [String] = []
        _ = first { proc, pid in
            let count = path.withUnsafeMutableBytes { readlinkat(proc, "\(pid)/exe", $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) }
            guard count > 0 else { return false }
            var executable = path[..<count]
            if executable.count > deleted.count, Array(executable.suffix(deleted.count)) == deleted { executable = executable.dropLast(deleted.count) }
            let base = executable.lastIndex(of: UInt8(ascii: "/")).map { executable[($0 + 1)...] } ?? executable
            var owner = stat()
            if Array(base) == name, fstatat(proc, pid, &owner, 0) == 0, owner.st_uid == uid { found.append(pid) }
            return false
        }
        return found
    }

    /// Whether the process `pid` runs in the network namespace open at `fd`.
    public static func process(_ pid: String, isInNamespace fd: Int32) -> Bool {
        var namespace = stat(), process = stat()
        guard fstat(fd, &namespace) == 0, stat("/proc/\(pid)/ns/net", &process) == 0 else { return false }
        return process.st_ino == namespace.st_ino && process.st_dev == namespace.st_dev
    }
}

/// ``ProcessTable/processes(running:uid:)`` on a thread of its own, so that
/// `pvd exec` reads /proc while it waits for pvdd and mounts the domain's
/// view. The thread reads /proc and nothing else; ``pids()`` joins it, which
/// `pvd exec` does before it changes credentials (per thread) and execs.
public final class ProcessSearch: @unchecked Sendable {
    private let program: String
    private let uid: uid_t
    private var found: [String] = []
    private var thread: pthread_t?

    /// Starts the search (or, when no thread can start, searches here).
    public init(program: String, uid: uid_t) {
        self.program = program
        self.uid = uid
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, { context in
            let search = Unmanaged<ProcessSearch>.fromOpaque(context!).takeUnretainedValue()
            search.found = ProcessTable.processes(running: search.program, uid: search.uid)
            return nil
        }, Unmanaged.passUnretained(self).toOpaque())
        if started == 0 { self.thread = thread } else { found = ProcessTable.processes(running: program, uid: uid) }
    }

    /// The pids found, once the search has ended.
    public func pids() -> [String] {
        if let thread {
            pthread_join(thread, nil)
            self.thread = nil
        }
        return found
    }
}
