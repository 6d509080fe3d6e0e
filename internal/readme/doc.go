// Package readme holds tests only: they keep README.md honest. The parts of
// it that restate action.yml (the inputs and outputs tables) or what
// `sear plan` prints (the IAM policies) are generated and compared, the
// reference's table of cluster fields is checked against internal/config,
// and the table of packages in "Developing sear" must name every package.
//
//	go test ./internal/readme -update
//
// rewrites the generated parts in place.
package readme
