/// Searching text for text. The standard library has these only in
/// `_StringProcessing`, which brings the regex engine (about 1 MB) into every
/// program; pvd's programs are built without it (Package.swift), and use these.
extension StringProtocol {
    /// The first range where `text` occurs, compared as characters; nil when it does not.
    public func range(ofText text: some StringProtocol) -> Range<Index>? {
        guard let first = text.first else { return startIndex..<startIndex }
        var index = startIndex
        while let start = self[index...].firstIndex(of: first) {
            var end = start
            var matched = true
            for character in text {
                guard end < endIndex, self[end] == character else {
                    matched = false
                    break
                }
                end = self.index(after: end)
            }
            if matched { return start..<end }
            index = self.index(after: start)
        }
        return nil
    }

    /// Whether `text` occurs.
    public func contains(text: some StringProtocol) -> Bool { range(ofText: text) != nil }

    /// The parts between occurrences of `separator` (empty parts kept).
    public func split(separatorText separator: some StringProtocol) -> [SubSequence] {
        var parts: [SubSequence] = []
        var rest = self[...]
        while !separator.isEmpty, let found = rest.range(ofText: separator) {
            parts.append(rest[..<found.lowerBound])
            rest = rest[found.upperBound...]
        }
        parts.append(rest)
        return parts
    }

    /// The text with every occurrence of `old` replaced by `new`.
    public func replacing(text old: some StringProtocol, with new: some StringProtocol) -> String {
        split(separatorText: old).joined(separator: String(new))
    }
}
