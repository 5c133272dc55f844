/// The one version of every pvd program (`--version`) and of its package.
public enum PvDVersion {
    public static let string = "0.7.0"
}
