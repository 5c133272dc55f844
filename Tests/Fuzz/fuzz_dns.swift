// libFuzzer entry for the DNS answer reader; built by scripts/fuzz together with the
// PvDWire sources (one module), so it can call the internal WireSelfCheck.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if let violation = WireSelfCheck.dnsAnswer(Array(UnsafeBufferPointer(start: data, count: size))) {
        fatalError(violation)
    }
    return 0
}
