package repocollect

import "testing"

// TestWatchesOnlyRepositoryDescriptors: the files whose entities the Watcher
// looks at are exactly those its digest can read a repository for.
func TestWatchesOnlyRepositoryDescriptors(t *testing.T) {
	t.Parallel()
	w := NewWatcher(nil, nil, nil, nil)
	tests := []struct {
		name, managedBy string
		want            bool
	}{
		{"file descriptor", "file:/src/app/catalog-info.yaml", true},
		{"file descriptor, other case", "file:/src/app/Catalog-Info.yml", true},
		{"file list", "file:/src/catalog/entities-00001.yaml", false},
		{"url descriptor", "url:https://git.example.com/team/app/blob/main/catalog-info.yaml", true},
		{"url list", "url:https://git.example.com/team/app/blob/main/all.yaml", false},
		{"bad url", "url:%%%", false},
		{"other type", "api:thing", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := w.Watches(tt.managedBy); got != tt.want {
				t.Errorf("Watches(%q) = %v, want %v", tt.managedBy, got, tt.want)
			}
		})
	}
}
