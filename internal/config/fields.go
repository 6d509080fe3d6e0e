package config

// ClusterFields are the fields a cluster file of kind k may give: for an
// !AWSCluster, Flambé's AWSCluster parameters, then sear's own. The README's
// field reference is checked against them (package readme), so a field
// added here without a row there fails a test.
func ClusterFields(k ClusterKind) []string {
	switch k {
	case AWS:
		return append(append([]string(nil), flambeAWSFields...), searFields...)
	case Local:
		return append([]string(nil), localFields...)
	}
	return nil
}

// FlambeField reports whether Flambé's own AWSCluster takes the field, so a
// Flambé project's cluster file may hold it as it is.
func FlambeField(name string) bool { return contains(flambeAWSFields, name) }
