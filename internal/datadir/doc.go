// Package datadir keeps a server's data folder private: the folder and every
// folder in it readable by their owner only (0700), and its files (the
// SQLite databases, the secrets key, the git cache) without group or other
// permissions (0600 for a plain file).
package datadir
