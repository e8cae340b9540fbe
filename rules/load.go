package rules

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/beckon-chat/beckon/schemas"
)

// Load reads, validates and compiles a rules file (YAML or JSON).
func Load(path string) (*Set, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	return Parse(data, path)
}

// Parse validates and compiles a rules file held in memory; name is used in
// error messages. A file with any problem is rejected whole: the error is an
// *Error listing every problem, and wraps ErrInvalid.
func Parse(data []byte, name string) (*Set, error) {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		return nil, &Error{Problems: []Problem{{File: name, Line: yamlLine(err), Msg: yamlMsg(err)}}}
	}
	var f File
	// Decode again with KnownFields so that a misspelt key is an error, not a
	// silently ignored setting.
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(&f); err != nil {
		return nil, &Error{Problems: []Problem{{File: name, Line: yamlLine(err), Msg: yamlMsg(err)}}}
	}
	c := compiler{file: name, root: &root}
	set := c.compile(&f)
	if len(c.problems) > 0 {
		return nil, &Error{Problems: c.problems}
	}
	return set, nil
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

func yamlLine(err error) int {
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

func yamlMsg(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n  ")
	msg = strings.ReplaceAll(msg, " in type rules.RuleSpec", "")
	msg = yamlClean.ReplaceAllString(msg, "")
	return strings.TrimLeft(msg, ": ")
}

var yamlClean = regexp.MustCompile(`(yaml: )?line \d+:\s*`)

type compiler struct {
	file     string
	root     *yaml.Node
	problems []Problem
}

func (c *compiler) add(line int, widget, rule string, cond int, format string, args ...any) {
	c.problems = append(c.problems, Problem{
		File: c.file, Line: line, Widget: widget, Rule: rule, Condition: cond,
		Msg: fmt.Sprintf(format, args...),
	})
}

func (c *compiler) compile(f *File) *Set {
	set := &Set{widgets: make(map[string]*Widget)}
	if len(f.Widgets) == 0 {
		c.add(c.line(), "", "", 0, "the file defines no widgets (expected a top-level \"widgets\" list)")
	}
	for wi := range f.Widgets {
		ws := &f.Widgets[wi]
		wline := c.line("widgets", wi)
		if err := schemas.ValidateID("id", ws.ID); err != nil {
			c.add(wline, ws.ID, "", 0, "widget %d: id must be 1-128 characters of A-Z a-z 0-9 _ -", wi+1)
		}
		if _, dup := set.widgets[ws.ID]; dup {
			c.add(wline, ws.ID, "", 0, "duplicate widget id")
		}
		w := c.widget(ws, wi)
		set.widgets[ws.ID] = w
		set.order = append(set.order, w)
	}
	return set
}

func (c *compiler) widget(ws *WidgetSpec, wi int) *Widget {
	w := &Widget{
		ID:              ws.ID,
		SessionTimeout:  DefaultSessionTimeout.Milliseconds(),
		PresenceTimeout: DefaultPresenceTimeout.Milliseconds(),
		AllowedOrigins:  ws.AllowedOrigins,
	}
	line := func(key string) int { return c.line("widgets", wi, key) }
	if ws.SessionTimeout != nil {
		w.SessionTimeout = ws.SessionTimeout.Milliseconds()
		if w.SessionTimeout <= 0 {
			c.add(line("session_timeout"), ws.ID, "", 0, "session_timeout must be positive")
		}
	}
	if ws.PresenceTimeout != nil {
		w.PresenceTimeout = ws.PresenceTimeout.Milliseconds()
		if w.PresenceTimeout <= 0 {
			c.add(line("presence_timeout"), ws.ID, "", 0, "presence_timeout must be positive")
		}
	}
	if w.PresenceTimeout > w.SessionTimeout {
		c.add(line("presence_timeout"), ws.ID, "", 0, "presence_timeout (%dms) must not exceed session_timeout (%dms)", w.PresenceTimeout, w.SessionTimeout)
	}
	if ws.Cooldown != nil {
		w.Cooldown = ws.Cooldown.Milliseconds()
		if w.Cooldown < 0 {
			c.add(line("cooldown"), ws.ID, "", 0, "cooldown must not be negative")
		}
	}
	if len(ws.Rules) > MaxRulesPerWidget {
		c.add(line("rules"), ws.ID, "", 0, "has %d rules; at most %d are allowed", len(ws.Rules), MaxRulesPerWidget)
	}
	seen := make(map[string]bool, len(ws.Rules))
	for ri := range ws.Rules {
		rs := &ws.Rules[ri]
		r := c.rule(ws.ID, rs, wi, ri)
		if seen[rs.ID] {
			c.add(c.line("widgets", wi, "rules", ri, "id"), ws.ID, rs.ID, 0, "duplicate rule id")
		}
		seen[rs.ID] = true
		w.Rules = append(w.Rules, r)
	}
	return w
}

func (c *compiler) rule(widget string, rs *RuleSpec, wi, ri int) *Rule {
	line := func(path ...any) int { return c.line(append([]any{"widgets", wi, "rules", ri}, path...)...) }
	r := &Rule{ID: rs.ID, Name: rs.Name, Index: ri, Enabled: rs.Enabled == nil || *rs.Enabled, Invitation: rs.Invitation}
	ruleRef := rs.ID
	if rs.ID == "" {
		ruleRef = fmt.Sprintf("#%d", ri+1)
		c.add(line(), widget, ruleRef, 0, "id is required")
	} else if len(rs.ID) > schemas.MaxIDLen {
		c.add(line("id"), widget, ruleRef, 0, "id is longer than %d characters", schemas.MaxIDLen)
	}
	switch rs.Match {
	case "", "all":
	case "any":
		r.MatchAny = true
	default:
		c.add(line("match"), widget, ruleRef, 0, "match must be all or any, not %q", rs.Match)
	}
	switch rs.Frequency {
	case "", "once_per_session":
	case "once_per_page":
		r.OncePerPage = true
	default:
		c.add(line("frequency"), widget, ruleRef, 0, "frequency must be once_per_session or once_per_page, not %q", rs.Frequency)
	}
	if strings.TrimSpace(rs.Invitation.Department) == "" {
		c.add(line("invitation"), widget, ruleRef, 0, "invitation.department is required")
	}
	if strings.TrimSpace(rs.Invitation.Prompt) == "" {
		c.add(line("invitation"), widget, ruleRef, 0, "invitation.prompt is required")
	}
	if n := len(rs.Conditions); n < 1 || n > MaxConditions {
		c.add(line("conditions"), widget, ruleRef, 0, "must have 1 to %d conditions, has %d", MaxConditions, n)
	}
	for ci := range rs.Conditions {
		cond, ok := c.condition(&rs.Conditions[ci], widget, ruleRef, ci, line("conditions", ci))
		if !ok {
			continue
		}
		r.Conditions = append(r.Conditions, cond)
		if o, ok := cond.onset(); ok {
			r.Onsets = append(r.Onsets, o)
		}
	}
	return r
}

func (c *compiler) condition(cs *ConditionSpec, widget, rule string, ci, line int) (Condition, bool) {
	bad := func(format string, args ...any) (Condition, bool) {
		c.add(line, widget, rule, ci+1, format, args...)
		return Condition{}, false
	}
	v, ok := variableNames[cs.Variable]
	if !ok {
		return bad("unknown variable %q (want one of current_url, referral_url, page_title, event_name, time_on_site, time_on_page, pages_viewed)", cs.Variable)
	}
	op, ok := operatorNames[cs.Operator]
	if !ok {
		return bad("unknown operator %q", cs.Operator)
	}
	if !cs.Value.Set {
		return bad("value is required")
	}
	cond := Condition{Variable: v, Operator: op}
	if v.IsString() {
		if !op.isString() {
			return bad("operator %q does not apply to string variable %q (use equals, not_equals, contains, not_contains, starts_with, ends_with or matches)", cs.Operator, cs.Variable)
		}
		if op == Matches {
			re, err := regexp.Compile(cs.Value.Text)
			if err != nil {
				return bad("regular expression %q does not compile: %v", cs.Value.Text, err)
			}
			cond.re = re
			return cond, true
		}
		cond.needle = strings.ToLower(cs.Value.Text)
		cond.noScheme = v.isURL() && !hasScheme(cs.Value.Text)
		return cond, true
	}
	if op.isString() {
		return bad("operator %q does not apply to number variable %q (use eq, neq, gt, gte, lt or lte)", cs.Operator, cs.Variable)
	}
	n, err := parseThousandths(cs.Value.Text)
	if err != nil {
		return bad("value %q: %v", cs.Value.Text, err)
	}
	if n < 0 {
		return bad("value %q must not be negative", cs.Value.Text)
	}
	cond.num = n
	return cond, true
}

// onset is when the condition turns true by time passing alone (SPEC §4).
func (c *Condition) onset() (Onset, bool) {
	if c.Variable != TimeOnSite && c.Variable != TimeOnPage {
		return Onset{}, false
	}
	switch c.Operator {
	case Gte, Eq:
		return Onset{Base: c.Variable, Offset: c.num}, true
	case Gt, Neq:
		return Onset{Base: c.Variable, Offset: c.num + 1}, true
	}
	return Onset{}, false
}

var schemeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)

func hasScheme(s string) bool { return schemeRE.MatchString(s) }

var errPrecision = errors.New("must be a number with at most 3 decimals (millisecond precision)")

// parseThousandths reads a decimal such as 20, 20.5 or 0.001 exactly, in
// thousandths.
func parseThousandths(s string) (int64, error) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+")
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" || len(frac) > 3 || len(whole) > 12 {
		return 0, errPrecision
	}
	for _, part := range []string{whole, frac} {
		for _, ch := range part {
			if ch < '0' || ch > '9' {
				return 0, errPrecision
			}
		}
	}
	var n int64
	for _, ch := range whole {
		n = n*10 + int64(ch-'0')
	}
	frac = (frac + "000")[:3]
	for _, ch := range frac {
		n = n*10 + int64(ch-'0')
	}
	if neg {
		n = -n
	}
	return n, nil
}

// line finds the line of a node by a path of mapping keys (string) and
// sequence indexes (int), falling back to the deepest node found.
func (c *compiler) line(path ...any) int {
	n := c.root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, p := range path {
		next := (*yaml.Node)(nil)
		switch k := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == k {
						next = n.Content[i+1]
						if next.Kind == yaml.ScalarNode {
							next = n.Content[i] // the key's line reads better
						}
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && k < len(n.Content) {
				next = n.Content[k]
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return n.Line
}
