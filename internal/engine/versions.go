package engine

import "github.com/sear-ci/sear/internal/config"

// The versions a bootstrap with engine_packages: pip installs from the package index, named in
// this one place (docs/node-environment.md repeats them). They run on Python 3.10, the python3
// of Ubuntu 22.04, which sear launches when no AMI is named, and on later Pythons. The test world
// has no package index, so these pins are checked by golden tests only; engine_packages: system
// is what runs there.
const (
	// DistributedVersion is Dask's distributed, which pins the dask it needs itself.
	DistributedVersion = "2024.8.2"
	// RayVersion is Ray, with its "default" extra (the dashboard's and the cluster
	// launcher's dependencies, which `ray start` wants).
	RayVersion = "2.40.0"
	// FlambeVersion is Flambé, which an !Experiment runs with.
	FlambeVersion = "0.4.18"
)

// PipPackages are the pip requirement specifiers of the engine's packages.
func PipPackages(k config.Engine) []string {
	switch k {
	case config.EngineDask:
		return []string{"distributed==" + DistributedVersion}
	case config.EngineRay:
		return []string{"ray[default]==" + RayVersion}
	}
	return nil
}

// FlambePackage is the pip requirement specifier of Flambé.
const FlambePackage = "flambe==" + FlambeVersion

// SystemPackages are the distribution's packages of the engine (Debian and Ubuntu): Debian
// bookworm's python3-distributed is 2022.12.1, Ubuntu 22.04's 2022.02.0. Ray has none, which the
// cluster file's validation refuses.
func SystemPackages(k config.Engine) []string {
	if k == config.EngineDask {
		return []string{"python3-distributed"}
	}
	return nil
}
