// libFuzzer entry for the YAML loader (PvDConfig: pvdd.yaml, drop-ins,
// declared states); built by scripts/fuzz against PvDWire, PvDCore, Yams and
// PvDConfig compiled with coverage.
import PvDConfig

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    if let violation = ConfigSelfCheck.yaml(Array(UnsafeBufferPointer(start: data, count: size))) {
        fatalError(violation)
    }
    return 0
}
