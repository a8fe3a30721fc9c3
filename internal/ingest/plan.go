package ingest

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// MaxRewalkFiles bounds the files a Rewalk re-reads: the changed files and
// every file a walk reads again anyway (one with a problem, a placeholder or
// a refused entity). Over it, a refresh walks the whole location, which
// costs as much.
const MaxRewalkFiles = 1000

// locPlan is what a file location's last walk met, in walk order: the files
// it read or kept, the targets of their Location entities, its globs, the
// files its placeholders read and the entities it kept for broken
// documents. A refresh of a few changed files replays it (Rewalk) to decide
// as a walk of the whole location would, reading only those files.
type locPlan struct {
	// eligible is false when the walk met something a replay cannot
	// follow: a url target, a target it could not read, nesting too deep.
	eligible bool
	files    []planFile
	globs    []globTarget
	deps     map[string]bool
	keptKeys []string
	// byPath and byDir index files by path and by folder (index).
	byPath map[string][]int
	byDir  map[string][]int
}

// planFile is one file a walk met.
type planFile struct {
	managedBy string
	path      string
	// children are the targets of the file's Location entities.
	children []childTarget
}

// globTarget is a glob target a walk met: its base folder and the
// pattern's segments below it.
type globTarget struct {
	base    string
	pattern []string
}

func newPlan(eligible bool) *locPlan {
	return &locPlan{eligible: eligible, deps: map[string]bool{}}
}

// addFile appends a file met and returns its index.
func (p *locPlan) addFile(managedBy string) int {
	p.files = append(p.files, planFile{managedBy: managedBy, path: strings.TrimPrefix(managedBy, TypeFile+":")})
	return len(p.files) - 1
}

// addGlob records a glob target (an absolute path).
func (p *locPlan) addGlob(target string) {
	base, pattern := globParts(target)
	p.globs = append(p.globs, globTarget{base: filepath.Clean(base), pattern: pattern})
}

// addDep records a file a placeholder read (or tried to).
func (p *locPlan) addDep(path string) { p.deps[filepath.Clean(path)] = true }

// index builds byPath and byDir.
func (p *locPlan) index() {
	p.byPath = make(map[string][]int, len(p.files))
	p.byDir = map[string][]int{}
	for i, f := range p.files {
		p.byPath[f.path] = append(p.byPath[f.path], i)
		d := filepath.Dir(f.path)
		p.byDir[d] = append(p.byDir[d], i)
	}
}

// setPlan keeps (or with nil drops) the plan of the location key.
func (r *Reader) setPlan(key string, p *locPlan) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p == nil || !p.eligible {
		delete(r.plans, key)
		return
	}
	p.index()
	if r.plans == nil {
		r.plans = map[string]*locPlan{}
	}
	r.plans[key] = p
}

func (r *Reader) plan(key string) *locPlan {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.plans[key]
}

// Change is what the paths a file watcher reported mean to one file
// location, as its last walk found it (Reader.Changed).
type Change struct {
	key  string
	plan *locPlan
	// changed are the indexes of the plan's files that changed.
	changed []int
	// relevant: a file of the location, or one a placeholder of it reads,
	// changed.
	relevant bool
	// dirs are the folders of the changed paths and the folders above them.
	dirs []string
}

// Relevant reports whether a changed path is a file the location reads, or
// one that a placeholder of its files reads. A Change that is not relevant
// changes no entity of the location.
func (c Change) Relevant() bool { return c.relevant }

// Beside returns the files (type:target) of the location that lie in a
// folder of a changed path, or in a folder above one, and that keep reports
// true for: the repository descriptors whose repository changed.
func (c Change) Beside(keep func(managedBy string) bool) []string {
	var out []string
	seen := map[int]bool{}
	for _, d := range c.dirs {
		for _, i := range c.plan.byDir[d] {
			if m := c.plan.files[i].managedBy; !seen[i] && keep(m) {
				seen[i] = true
				out = append(out, m)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Changed tells what the changed paths (absolute, as a file watcher reports
// them) mean to the file location of target, as its last committed walk
// found it. ok is false when only a walk of the whole location can tell:
// no walk of it is remembered (the reader started, forgot, or the last walk
// was not written), that walk could not read a target or met a url target,
// or a path is a folder (created, removed or renamed) holding or near the
// location's files, a file a glob of it matches that it did not read (added),
// or one it read that is gone.
func (r *Reader) Changed(locType, target string, paths []string) (c Change, ok bool) {
	if locType != TypeFile {
		return Change{}, false
	}
	key := locType + ":" + target
	p := r.plan(key)
	if p == nil {
		return Change{}, false
	}
	c = Change{key: key, plan: p}
	dirs := map[string]bool{}
	for _, path := range paths {
		path = filepath.Clean(path)
		for d := filepath.Dir(path); !dirs[d]; d = filepath.Dir(d) {
			dirs[d] = true
			c.dirs = append(c.dirs, d)
			if filepath.Dir(d) == d {
				break
			}
		}
		if is, found := p.byPath[path]; found {
			fi, err := os.Stat(path)
			if err != nil || !fi.Mode().IsRegular() {
				return Change{}, false // removed, or no longer a file
			}
			c.changed = append(c.changed, is...)
			c.relevant = true
			continue
		}
		if p.deps[path] {
			c.relevant = true
			continue
		}
		if p.holds(path) {
			return Change{}, false // a folder of the location's files
		}
		for _, g := range p.globs {
			rel, err := filepath.Rel(g.base, path)
			if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
				continue
			}
			if fi, err := os.Stat(path); err == nil && fi.IsDir() {
				return Change{}, false // a folder a glob may reach into
			}
			if matchGlob(g.pattern, strings.Split(filepath.ToSlash(rel), "/")) {
				return Change{}, false // a file the glob matches, added or gone
			}
		}
	}
	slices.Sort(c.changed)
	c.changed = slices.Compact(c.changed)
	return c, true
}

// holds reports whether path is a folder above a file of the plan or the
// base of one of its globs.
func (p *locPlan) holds(path string) bool {
	prefix := path + string(filepath.Separator)
	if path == string(filepath.Separator) {
		prefix = path
	}
	for _, g := range p.globs {
		if g.base == path || strings.HasPrefix(g.base, prefix) {
			return true
		}
	}
	for d := range p.byDir {
		if d == path || strings.HasPrefix(d, prefix) {
			return true
		}
	}
	return false
}

// Rewalked is what a Rewalk did.
type Rewalked struct {
	// OK is false when a file re-read names other Location targets than
	// before, or could not be read: the location must be walked whole, and
	// nothing the sink received may be written.
	OK bool
	// Files are the files (type:target) re-read; every other file of the
	// location was kept (Sink.KeepFile) as it was.
	Files []string
	// Keys are the entities the last walk kept for broken documents
	// (Sink.KeepEntity): they may belong to a file the location no longer
	// reads, and must be decided again (refresh.Decider.Scope).
	Keys []string
	// Commit records the re-read files for later walks, as Walk's commit;
	// call it only once what the sink received has been written.
	Commit func()
}

// replayState is a replay's view of the plan it replays.
type replayState struct {
	plan *locPlan
	// reread marks the plan's files the replay re-reads.
	reread []bool
	// cur is the index of the file being re-read.
	cur int
	// at maps the key hash of each entity a re-read file yielded to the
	// first such file's index.
	at map[uint64]int
	// kids are the Location targets of the file last re-read.
	kids []childTarget
}

// yielded records that the current file yielded key hash h.
func (rs *replayState) yielded(h uint64) {
	if _, ok := rs.at[h]; !ok {
		rs.at[h] = rs.cur
	}
}

// firstYielder returns the first file, in walk order, before the current
// one or the current one, that yielded the entity of key hash h, as a walk
// of the whole location would have found it: a kept file's entities are
// those of its memo.
func (rs *replayState) firstYielder(r *Reader, h uint64) (string, bool) {
	limit := rs.cur
	first, found := rs.at[h]
	if found {
		limit = min(limit, first)
	}
	for i := 0; i < limit; i++ {
		if rs.reread[i] {
			continue
		}
		if m, ok := r.memo(rs.plan.files[i].managedBy); ok && slices.Contains(m.keys, h) {
			return rs.plan.files[i].managedBy, true
		}
	}
	if found {
		return rs.plan.files[first].managedBy, true
	}
	return "", false
}

// Rewalk decides a Change as a walk of the whole location would, reading
// only the changed files and the files every walk reads again (those that
// had a problem, a placeholder or a refused entity): it replays the last
// walk's files in its order, keeping each other file (Sink.KeepFile) without
// looking at it, and follows no target, the re-read files' Location targets
// being those the plan met. It trusts the watcher: a file of the location
// that changed unreported (in a folder not watched) is read at the next
// walk of the whole location (the periodic refresh). It returns an error of
// the sink or the context only; Rewalked.OK false when only a walk of the
// whole location can decide.
func (r *Reader) Rewalk(ctx context.Context, c Change, sink Sink) (Rewalked, error) {
	p := c.plan
	r.setPlan(c.key, nil) // dropped until the replay is committed
	rs := &replayState{plan: p, reread: make([]bool, len(p.files)), at: map[uint64]int{}}
	for _, i := range c.changed {
		rs.reread[i] = true
	}
	n := 0
	for i, f := range p.files {
		if !rs.reread[i] {
			if _, ok := r.memo(f.managedBy); !ok {
				rs.reread[i] = true
			}
		}
		if rs.reread[i] {
			n++
		}
	}
	if n > MaxRewalkFiles {
		return Rewalked{}, nil
	}
	np := &locPlan{eligible: true, files: slices.Clone(p.files), globs: p.globs, deps: map[string]bool{}}
	w := &walk{r: r, sink: sink, visited: map[string]bool{}, useMemo: true, pending: map[string]*fileMemo{},
		yielded: map[uint64]int32{}, fileIndex: map[string]int32{}, rec: np, replay: rs}
	var out Rewalked
	now := time.Now()
	for i, f := range p.files {
		if err := ctx.Err(); err != nil {
			return Rewalked{}, err
		}
		if !rs.reread[i] {
			sink.KeepFile(f.managedBy)
			continue
		}
		if _, err := r.cfg.Roots.Check(f.path); err != nil {
			return Rewalked{}, nil
		}
		df, err := w.diskFile(f.path, now)
		if err != nil {
			return Rewalked{}, nil
		}
		rs.cur, rs.kids = i, nil
		if err := w.file(ctx, TypeFile, &df, 0); err != nil {
			return Rewalked{}, err
		}
		if !slices.Equal(rs.kids, f.children) {
			return Rewalked{}, nil
		}
		out.Files = append(out.Files, f.managedBy)
	}
	slices.Sort(out.Files)
	out.Files = slices.Compact(out.Files)
	out.OK = true
	out.Keys = p.keptKeys
	out.Commit = func() {
		for k, m := range w.pending {
			r.remember(k, m)
		}
		r.setPlan(c.key, np)
	}
	return out, nil
}
