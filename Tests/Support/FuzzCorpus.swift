import Glibc

/// The inputs `scripts/fuzz` kept in `Tests/Fuzz/corpus/TARGET`, which the
/// unit tests replay through the properties the fuzz targets check, so a
/// found bug stays fixed.
public enum FuzzCorpus {
    /// `Tests/Fuzz/corpus`, found from this file's place in the tree.
    static let root: String = {
        var path = #filePath
        for _ in 0..<2 { path = String(path[..<path.lastIndex(of: "/")!]) }
        return path + "/Fuzz/corpus"
    }()

    /// Each input of `target`'s corpus, by name, sorted; empty when the
    /// directory is missing or empty (callers expect inputs).
    public static func inputs(_ target: String) -> [(name: String, bytes: [UInt8])] {
        let directory = "\(root)/\(target)"
        guard let stream = opendir(directory) else { return [] }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted().compactMap { name in read("\(directory)/\(name)").map { (name, $0) } }
    }

    /// A whole file's bytes; nil when it does not read.
    public static func read(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            bytes += chunk[0..<count]
            if count < chunk.count { return ferror(file) == 0 ? bytes : nil }
        }
    }
}
