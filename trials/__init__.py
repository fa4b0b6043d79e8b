"""Channel Trials' domain: the trial registry, storage, imports, decisions and exports."""

APP_VERSION = "0.6.0"
