package cratedeps

import (
	"fmt"
	"strings"
	"unicode"
)

// cfgExpr is a parsed cfg predicate: all(…), any(…), not(…), `key = "value"` or a
// bare name.
type cfgExpr struct {
	op    string // "all", "any", "not", or "" for a leaf
	args  []cfgExpr
	key   string
	value *string
}

// eval folds the predicate over p with three-valued logic, so that an unknown key
// inside not(…) stays unknown instead of flipping to a certain answer.
func (e cfgExpr) eval(p platform) tristate {
	switch e.op {
	case "all":
		out := yes
		for _, a := range e.args {
			out = min(out, a.eval(p))
		}
		return out
	case "any":
		out := no
		for _, a := range e.args {
			out = max(out, a.eval(p))
		}
		return out
	case "not":
		return yes - e.args[0].eval(p)
	}
	return p.lookup(e.key, e.value)
}

// cfgParser reads the cfg grammar cargo accepts in [target.'cfg(…)'] tables.
type cfgParser struct {
	s   string
	pos int
}

// parseCfg parses "cfg(PREDICATE)".
func parseCfg(spec string) (cfgExpr, error) {
	p := &cfgParser{s: spec}
	if p.ident() != "cfg" || !p.eat('(') {
		return cfgExpr{}, fmt.Errorf("cfg %q: want cfg(…)", spec)
	}
	e, err := p.expr()
	if err != nil {
		return cfgExpr{}, fmt.Errorf("cfg %q: %w", spec, err)
	}
	if !p.eat(')') || p.skipSpace() < len(p.s) {
		return cfgExpr{}, fmt.Errorf("cfg %q: trailing input at %d", spec, p.pos)
	}
	return e, nil
}

func (p *cfgParser) skipSpace() int {
	for p.pos < len(p.s) && unicode.IsSpace(rune(p.s[p.pos])) {
		p.pos++
	}
	return p.pos
}

func (p *cfgParser) eat(c byte) bool {
	p.skipSpace()
	if p.pos < len(p.s) && p.s[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

func (p *cfgParser) ident() string {
	p.skipSpace()
	start := p.pos
	for p.pos < len(p.s) {
		c := rune(p.s[p.pos])
		if c != '_' && !unicode.IsLetter(c) && !unicode.IsDigit(c) {
			break
		}
		p.pos++
	}
	return p.s[start:p.pos]
}

func (p *cfgParser) expr() (cfgExpr, error) {
	name := p.ident()
	if name == "" {
		return cfgExpr{}, fmt.Errorf("want a name at %d", p.pos)
	}
	switch {
	case (name == "all" || name == "any" || name == "not") && p.eat('('):
		args, err := p.list()
		if err != nil {
			return cfgExpr{}, err
		}
		if name == "not" && len(args) != 1 {
			return cfgExpr{}, fmt.Errorf("not(…) takes one predicate, got %d", len(args))
		}
		return cfgExpr{op: name, args: args}, nil
	case p.eat('='):
		v, err := p.str()
		if err != nil {
			return cfgExpr{}, err
		}
		return cfgExpr{key: name, value: &v}, nil
	}
	return cfgExpr{key: name}, nil
}

// list reads predicates up to the closing parenthesis; a trailing comma is allowed.
func (p *cfgParser) list() ([]cfgExpr, error) {
	var args []cfgExpr
	for !p.eat(')') {
		e, err := p.expr()
		if err != nil {
			return nil, err
		}
		args = append(args, e)
		if !p.eat(',') {
			if !p.eat(')') {
				return nil, fmt.Errorf("want , or ) at %d", p.pos)
			}
			break
		}
	}
	return args, nil
}

func (p *cfgParser) str() (string, error) {
	if !p.eat('"') {
		return "", fmt.Errorf("want a string at %d", p.pos)
	}
	end := strings.IndexByte(p.s[p.pos:], '"')
	if end < 0 {
		return "", fmt.Errorf("unterminated string at %d", p.pos)
	}
	v := p.s[p.pos : p.pos+end]
	p.pos += end + 1
	return v, nil
}
