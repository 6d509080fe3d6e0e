package config

import (
	"path"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Setup is the cluster's setup: field, how sear makes the node environment the engine and the
// job need on an image that lacks it (docs/node-environment.md): a virtual environment on every
// node, with the engine's packages and the user's requirements in it. Without it the image
// must have everything already, and sear checks that it does right after connecting.
type Setup struct {
	// Python is how the job's Python is made; only SetupVenv for now.
	Python string
	// EnginePackages is where the engine's packages come from.
	EnginePackages EnginePackages
	// Requirements is a pip requirements file, relative to the uploaded workspace; "" for none.
	Requirements string
	// Packages are further pip requirement specifiers ("numpy==1.26.4").
	Packages []string
	// Pos is where setup: is in the file, for errors found on the nodes.
	Pos Pos
}

// SetupVenv is a venv made with the node's python3 (python3 -m venv).
const SetupVenv = "venv"

// EnginePackages says where a bootstrap gets the engine's packages.
type EnginePackages string

// Where the engine's packages come from.
const (
	// EnginePip installs them with pip from the package index, at the versions sear pins
	// (internal/engine's versions).
	EnginePip EnginePackages = "pip"
	// EngineSystem installs the distribution's packages with apt-get (python3-distributed),
	// and makes the venv see them (--system-site-packages). Ray has none.
	EngineSystem EnginePackages = "system"
)

var setupFields = []string{"python", "engine_packages", "requirements", "packages"}

// setup decodes the setup: field; c.Engine must be decoded already.
func (s *source) setup(f field, c *Cluster) {
	st := &Setup{Python: SetupVenv, EnginePackages: EnginePip, Pos: Pos{File: s.name, Line: f.key.Line, Col: f.key.Column}}
	n := resolve(f.value)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		s.errorAt(f.value, "setup is empty; give it as a mapping, at least `setup: {}` for a venv with the engine's packages (docs/node-environment.md), or remove it")
		return
	}
	fs := s.fields(n, `"setup"`, setupFields)
	if n.Kind != yaml.MappingNode {
		return
	}
	if p, ok := fs["python"]; ok {
		if v, ok := s.str(p); ok {
			if v != SetupVenv {
				s.errorAt(p.value, "python %q is not a way sear makes the job's Python; expected venv (a python3 -m venv on every node)", v)
			}
			st.Python = v
		}
	}
	if p, ok := fs["engine_packages"]; ok {
		if v, ok := s.str(p); ok {
			switch EnginePackages(strings.ToLower(v)) {
			case EnginePip, EngineSystem:
				st.EnginePackages = EnginePackages(strings.ToLower(v))
			default:
				s.errorAt(p.value, "engine_packages %q: expected pip (the package index, at the versions sear pins) or system (the distribution's packages, with apt-get)", v)
			}
			if st.EnginePackages == EngineSystem && c.Engine == EngineRay {
				s.errorAt(p.value, "engine_packages system: Debian and Ubuntu have no package of Ray; use engine_packages: pip")
			}
		}
	}
	if p, ok := fs["requirements"]; ok {
		if v, ok := s.str(p); ok {
			switch clean := path.Clean(v); {
			case v == "":
				s.errorAt(p.value, "requirements is empty; name a requirements file in the workspace, or remove the field")
			case path.IsAbs(v) || clean == ".." || strings.HasPrefix(clean, "../"):
				s.errorAt(p.value, "requirements %q must be inside the workspace sear uploads; write a path relative to it, like requirements.txt", v)
			default:
				st.Requirements = clean
			}
		}
	}
	if p, ok := fs["packages"]; ok {
		pkgs, _ := s.strList(p)
		for i, v := range pkgs {
			item := resolve(p.value).Content[i]
			switch {
			case strings.TrimSpace(v) == "":
				s.errorAt(item, "packages has an empty entry; remove it")
			case strings.HasPrefix(strings.TrimSpace(v), "-"):
				s.errorAt(item, "package %q is a pip option, not a requirement; put options in the requirements file", v)
			}
		}
		st.Packages = pkgs
	}
	c.Setup = st
}
