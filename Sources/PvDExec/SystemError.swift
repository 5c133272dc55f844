import Glibc
import PvDCore

/// The errno of the last failed call as a HostNetError.
public func systemError(_ step: String, _ object: String, errno code: Int32 = errno) -> HostNetError {
    HostNetError(step: step, object: object, reason: String(cString: strerror(code)), code: code)
}
