//! Which file system a path lives on, from `/proc/mounts` (Linux), to tell a
//! local disk from a network share on which SQLite's locks are not safe.

use std::fs;
use std::path::Path;

/// File system types whose locking SQLite cannot rely on.
pub const NETWORK_TYPES: [&str; 13] = [
    "nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "fuse.sshfs", "sshfs", "9p", "afs", "ncpfs", "davfs",
];

/// One line of `/proc/mounts`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mount {
    /// Where it is mounted (escapes such as `\040` decoded).
    pub point: String,
    /// Its type (`ext4`, `nfs4`, `fuse.sshfs`).
    pub fs_type: String,
}

/// Parses the text of `/proc/mounts`.
pub fn parse(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let _device = fields.next()?;
            let point = unescape(fields.next()?);
            let fs_type = fields.next()?.to_string();
            Some(Mount { point, fs_type })
        })
        .collect()
}

/// Decodes the octal escapes (`\040` for a space) the kernel writes in mount points.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let code = bytes.get(i + 1..i + 4).and_then(|d| std::str::from_utf8(d).ok()).and_then(|d| u8::from_str_radix(d, 8).ok());
        match (bytes[i], code) {
            (b'\\', Some(byte)) => {
                out.push(byte);
                i += 4;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The mount that holds the absolute path `path`: the one with the longest mount
/// point that is `path` or one of its ancestors (the last listed wins a tie, as
/// the last mount on a point hides the earlier ones).
pub fn containing<'a>(mounts: &'a [Mount], path: &Path) -> Option<&'a Mount> {
    let mut best: Option<&Mount> = None;
    for mount in mounts {
        if path.starts_with(&mount.point) && best.is_none_or(|b| mount.point.len() >= b.point.len()) {
            best = Some(mount);
        }
    }
    best
}

/// Whether a file system of type `fs_type` is a network share.
pub fn is_network(fs_type: &str) -> bool {
    NETWORK_TYPES.contains(&fs_type)
}

/// The type of the file system holding `path` (which must exist), or `None`
/// where `/proc/mounts` is not available (macOS, Windows, some sandboxes).
pub fn fs_type_of(path: &Path) -> Option<String> {
    let absolute = path.canonicalize().ok()?;
    let text = fs::read_to_string("/proc/mounts").ok()?;
    let mounts = parse(&text);
    containing(&mounts, &absolute).map(|m| m.fs_type.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
/dev/sda1 / ext4 rw,relatime 0 0
proc /proc proc rw 0 0
server:/export /srv/data nfs4 rw,vers=4.2 0 0
//nas/share /mnt/my\\040share cifs rw 0 0
user@host:/home /srv/data/remote fuse.sshfs rw 0 0
";

    #[test]
    fn finds_the_deepest_mount_and_decodes_spaces() {
        let mounts = parse(SAMPLE);
        assert_eq!(mounts.len(), 5);
        let at = |p: &str| containing(&mounts, Path::new(p)).map(|m| m.fs_type.as_str());
        assert_eq!(at("/var/lib/app.db"), Some("ext4"));
        assert_eq!(at("/srv/data/app.db"), Some("nfs4"));
        assert_eq!(at("/srv/data/remote/app.db"), Some("fuse.sshfs"));
        assert_eq!(at("/mnt/my share/app.db"), Some("cifs"));
        assert_eq!(at("/srv/database/app.db"), Some("ext4"), "a sibling with a common prefix is not inside");
    }

    #[test]
    fn network_types_are_recognised() {
        for t in ["nfs", "nfs4", "cifs", "smb3", "fuse.sshfs"] {
            assert!(is_network(t), "{t}");
        }
        for t in ["ext4", "xfs", "btrfs", "tmpfs", "overlay", "zfs"] {
            assert!(!is_network(t), "{t}");
        }
    }

    #[test]
    fn the_temp_directory_has_a_type_on_linux() {
        if cfg!(target_os = "linux") && Path::new("/proc/mounts").exists() {
            assert!(fs_type_of(&std::env::temp_dir()).is_some());
        }
    }
}
