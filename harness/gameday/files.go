package gameday

import "path/filepath"

// Files are a game day's files on the facilitator's host, in its report
// directory: the one place their names are made.
type Files struct{ Dir, ID string }

// Files are the files of the game day h names.
func (h *Header) Files() Files { return Files{Dir: h.Dir, ID: h.ID} }

func (f Files) path(suffix string) string { return filepath.Join(f.Dir, "gameday-"+f.ID+suffix) }

// Key is the game day's key (mode 0600): what reads it reads the truth.
func (f Files) Key() string { return f.path(".key") }

// Sealed is the truth for the facilitator's eyes (mode 0600).
func (f Files) Sealed() string { return f.path(".sealed.json") }

// Log is the background process's output.
func (f Files) Log() string { return f.path(".log") }

// Text, JSON and HTML are the reports 'end' writes.
func (f Files) Text() string { return f.path(".txt") }
func (f Files) JSON() string { return f.path(".json") }
func (f Files) HTML() string { return f.path(".html") }
