import Glibc
import PvDCore

/// The errno of the last failed call as a SystemError.
public func systemError(_ step: String, _ object: String, errno code: Int32 = errno) -> SystemError {
    SystemError(step: step, object: object, reason: String(cString: strerror(code)), code: .errno(code))
}
