package consumers

import (
	"fmt"
	"slices"
	"strings"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/redact"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
)

const (
	// maxNames is how many application names one sentence lists; the rest
	// are counted ("and 4 more").
	maxNames = 3
	// MaxWarning bounds the whole warning in bytes, so that the status it
	// is appended to stays well under 1 KiB.
	MaxWarning = 700
)

// Problem is one thing a related application cannot carry, and the
// fields that hold it.
type Problem struct {
	What   string
	Fields []string
}

func (p Problem) String() string { return p.What + " in " + strings.Join(p.Fields, "/") }

// Problems lists what an application of that name cannot carry of d (as
// published): each reason once with its fields, in the table's order, and
// whether the name is known.
func Problems(d relation.Data, app string) (ps []Problem, known bool) {
	cs, known := ForApp(app)
	for _, c := range cs {
		for _, b := range c.Breaks(d) {
			i := slices.IndexFunc(ps, func(p Problem) bool { return p.What == b.What })
			if i < 0 {
				ps = append(ps, Problem{What: b.What})
				i = len(ps) - 1
			}
			if !slices.Contains(ps[i].Fields, b.Field) {
				ps[i].Fields = append(ps[i].Fields, b.Field)
			}
		}
	}
	return ps, known
}

// Warning is what the status appends for the related applications apps
// (remote application names) given d as published: "" when every one of
// them reads d back, else one sentence per set of applications with the
// same problems, naming them. It names fields, never values.
func Warning(d relation.Data, apps []string) string {
	type group struct {
		known    bool
		problems []Problem
		apps     []string
	}
	var groups []*group
	for _, app := range slices.Sorted(slices.Values(apps)) {
		ps, known := Problems(d, app)
		if len(ps) == 0 {
			continue
		}
		i := slices.IndexFunc(groups, func(g *group) bool {
			return g.known == known && slices.EqualFunc(g.problems, ps, func(a, b Problem) bool { return a.String() == b.String() })
		})
		if i < 0 {
			groups = append(groups, &group{known: known, problems: ps})
			i = len(groups) - 1
		}
		if !slices.Contains(groups[i].apps, app) {
			groups[i].apps = append(groups[i].apps, app)
		}
	}
	if len(groups) == 0 {
		return ""
	}
	// The applications the charm knows first: theirs is the sure news.
	slices.SortStableFunc(groups, func(a, b *group) int {
		switch {
		case a.known == b.known:
			return 0
		case a.known:
			return -1
		}
		return 1
	})
	var b strings.Builder
	for _, g := range groups {
		ps := make([]string, len(g.problems))
		for i, p := range g.problems {
			ps[i] = p.String()
		}
		if g.known {
			fmt.Fprintf(&b, "; %s cannot read: %s", names(g.apps), strings.Join(ps, ", "))
		} else {
			fmt.Fprintf(&b, "; could not tell what %s renders, by every consumer's rules it cannot read: %s", names(g.apps), strings.Join(ps, ", "))
		}
	}
	b.WriteString(" (see README, What consumers render)")
	return redact.Cut(b.String(), MaxWarning)
}

func names(apps []string) string {
	if len(apps) <= maxNames {
		return strings.Join(apps, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(apps[:maxNames], ", "), len(apps)-maxNames)
}
