// Package config reads and validates sear's two configuration files into a
// typed model; nothing else in sear parses them (docs/design.md,
// "Configuration").
//
// A runnable file (LoadRunnable, ParseRunnable) is Flambé's format: an
// optional extensions document mapping names to locations, then the
// runnable. A top-level !Script is KindScript, run natively as
// python3 -m MODULE ARGS… --KEY VALUE…; anything else (!Experiment,
// !Builder, an extension's class) is KindFlambe, run with the flambe
// command. The ML pipeline is not interpreted, but its tags, links, search
// options and extension locations are checked as Flambé would need them.
//
// A cluster file (LoadCluster, ParseCluster) is one !AWSCluster or
// !LocalCluster document. An !AWSCluster takes every parameter of Flambé's
// AWSCluster as a Flambé project writes it (FlambeField), some accepted and
// not used, and sear's own fields in the same document; ClusterFields lists
// what each kind takes. The defaults of the fields a file leaves out are
// applied here.
//
// Every problem is an *Error that names the file, the 1-based line and
// column and the line itself: its string is file:line:col: message, which
// editors and GitHub annotations understand, and Pretty shows the line with
// a caret under the column. Unknown names get the nearest valid one.
// Validation does not stop at the first problem: a file's problems come
// back together as Errors, sorted by position. A file that cannot be read,
// is larger than MaxFileSize, or is not UTF-8 text is one *Error.
// Cluster.Set keeps the position of every field given, and FieldError and
// ItemError turn a later stage's finding (a preflight's missing AMI) into an
// *Error at that line. Cluster.Node is the node of a rank as the file
// describes it (role, Flambé name, instance types, image, the fields that
// set them), the one place sear plan and the providers learn it from.
package config
