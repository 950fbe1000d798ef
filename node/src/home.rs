//! A node's home directory: its signing key, its TLS key, its DID and its TOML configuration.
//!
//! Layout of `<home>`:
//! - `config.toml`: the DID, the QUIC listen address and published endpoint, where the ledger is
//!   (a local directory, or a served ledger's address and validator key) and the local paths of
//!   registered data sets (no secrets).
//! - `node.key`: the DID signing key (32 secret bytes, hex), file mode 0600.
//! - `tls.key`: the Ed25519 key the node's TLS certificate carries (PKCS#8 DER, hex), mode 0600.
//!
//! Secrets are read into zeroizing buffers and never logged or printed.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tessera_ledger::{Did, KeyPair, KeyRef, SignatureSuite};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// The verification method of a node's DID that signs transactions and commitments.
pub const SIGNING_METHOD: &str = "key-1";

/// The node configuration file (`config.toml`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Config {
    /// The node's name: its DID is `did:tessera:<name>`.
    pub name: String,
    /// Signature suite of the signing key: `ed25519` or `sm2`.
    pub suite: String,
    /// UDP address the node's QUIC endpoint listens on.
    pub listen: SocketAddr,
    /// The endpoint published in the DID document (`quic://host:port`); default: `listen`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The shared ledger directory (see `ledger start`); unused when `ledger_remote` is set.
    #[serde(default)]
    pub ledger: PathBuf,
    /// A ledger served over the node transport (see `ledger start --listen`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger_remote: Option<RemoteLedger>,
    /// Data sets this node registered: id → local file.
    #[serde(default)]
    pub datasets: BTreeMap<String, PathBuf>,
}

/// Where a served ledger is and whom it must be.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct RemoteLedger {
    /// Its `quic://host:port`.
    pub endpoint: String,
    /// The validator's `did:key` (Ed25519): the service's certificate must carry this key and the
    /// ledger's genesis must list it as a validator.
    pub validator: String,
}

impl Config {
    /// The endpoint this node publishes.
    pub fn published_endpoint(&self) -> String {
        self.endpoint.clone().unwrap_or_else(|| crate::tls::quic_uri(self.listen))
    }
}

/// A loaded node home.
pub struct Home {
    /// The home directory.
    pub dir: PathBuf,
    /// Its configuration.
    pub config: Config,
    key: KeyPair,
    tls_pkcs8: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Home {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Home").field("dir", &self.dir).field("config", &self.config).finish()
    }
}

fn suite_name(s: SignatureSuite) -> &'static str {
    match s {
        SignatureSuite::Sm2 => "sm2",
        SignatureSuite::Secp256k1 => "secp256k1",
        _ => "ed25519",
    }
}

fn parse_suite(s: &str) -> Result<SignatureSuite> {
    match s {
        "ed25519" => Ok(SignatureSuite::Ed25519),
        "sm2" => Ok(SignatureSuite::Sm2),
        "secp256k1" => Ok(SignatureSuite::Secp256k1),
        other => Err(Error::invalid("signature suite", format!("{other:?} (use ed25519 or sm2)"))),
    }
}

/// Writes `bytes` to a new file readable only by its owner.
pub(crate) fn write_secret(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| Error::io(path, e))?;
    f.write_all(bytes).map_err(|e| Error::io(path, e))?;
    f.sync_all().map_err(|e| Error::io(path, e))
}

/// Reads a hex secret file, refusing one that others can read.
pub(crate) fn read_secret(path: &Path) -> Result<Zeroizing<Vec<u8>>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let meta = fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(Error::invalid(
                "key file",
                format!("{} is readable by others; chmod 600 it", path.display()),
            ));
        }
    }
    let text = Zeroizing::new(fs::read_to_string(path).map_err(|e| Error::io(path, e))?);
    let bytes = hex::decode(text.trim()).map_err(|_| Error::invalid("key file", "not hex"))?;
    Ok(Zeroizing::new(bytes))
}

/// Picks a free loopback UDP port.
pub fn free_loopback_addr() -> Result<SocketAddr> {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").map_err(|e| Error::io("udp socket", e))?;
    s.local_addr().map_err(|e| Error::io("udp socket", e))
}

impl Home {
    /// Creates a new home: keys, configuration. Fails if `dir` already holds a configuration.
    pub fn init(
        dir: &Path,
        name: &str,
        suite: &str,
        listen: Option<SocketAddr>,
        ledger: &Path,
    ) -> Result<Self> {
        let suite_v = parse_suite(suite)?;
        Did::tessera(name).map_err(|e| Error::invalid("node name", e))?;
        fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        if dir.join("config.toml").exists() {
            return Err(Error::Usage(format!("{} is already a node home", dir.display())));
        }
        let key = KeyPair::generate(suite_v)?;
        write_secret(&dir.join("node.key"), hex::encode(*key.secret_bytes()).as_bytes())?;
        let tls = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519)
            .map_err(|e| Error::Transport(format!("TLS key generation: {e}")))?;
        let tls_pkcs8 = Zeroizing::new(tls.serialize_der());
        write_secret(&dir.join("tls.key"), hex::encode(&*tls_pkcs8).as_bytes())?;
        let listen = match listen {
            Some(a) => a,
            None => free_loopback_addr()?,
        };
        let ledger = fs::canonicalize(ledger).unwrap_or_else(|_| ledger.to_path_buf());
        let config = Config {
            name: name.to_owned(),
            suite: suite_name(suite_v).to_owned(),
            listen,
            endpoint: None,
            ledger,
            ledger_remote: None,
            datasets: BTreeMap::new(),
        };
        let home = Self { dir: dir.to_path_buf(), config, key, tls_pkcs8 };
        home.save()?;
        Ok(home)
    }

    /// Loads an existing home.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join("config.toml");
        let text = fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let config: Config = toml::from_str(&text).map_err(|e| Error::invalid("config.toml", e))?;
        let suite = parse_suite(&config.suite)?;
        let secret = read_secret(&dir.join("node.key"))?;
        let secret: Zeroizing<[u8; 32]> = Zeroizing::new(
            secret.as_slice().try_into().map_err(|_| Error::invalid("node.key", "not 32 bytes"))?,
        );
        let key = KeyPair::from_secret(suite, &secret)?;
        let tls_pkcs8 = read_secret(&dir.join("tls.key"))?;
        Ok(Self { dir: dir.to_path_buf(), config, key, tls_pkcs8 })
    }

    /// Writes `config.toml`.
    pub fn save(&self) -> Result<()> {
        let path = self.dir.join("config.toml");
        let text = toml::to_string_pretty(&self.config).map_err(|e| Error::invalid("config", e))?;
        fs::write(&path, text).map_err(|e| Error::io(&path, e))
    }

    /// This node's DID.
    pub fn did(&self) -> Did {
        Did::Tessera(self.config.name.clone())
    }

    /// The reference to this node's signing key.
    pub fn key_ref(&self) -> KeyRef {
        KeyRef::new(self.did(), SIGNING_METHOD)
    }

    /// The signing key.
    pub fn key(&self) -> &KeyPair {
        &self.key
    }

    /// The TLS key (PKCS#8 DER).
    pub(crate) fn tls_pkcs8(&self) -> &[u8] {
        &self.tls_pkcs8
    }

    /// The raw Ed25519 public key the node's certificate carries.
    pub fn tls_public_key(&self) -> Result<Vec<u8>> {
        let kp = rcgen::KeyPair::try_from(self.tls_pkcs8.as_slice())
            .map_err(|e| Error::invalid("tls.key", e))?;
        Ok(kp.public_key_raw().to_vec())
    }
}
