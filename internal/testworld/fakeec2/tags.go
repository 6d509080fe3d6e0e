package fakeec2

import (
	"strings"
	"unicode/utf8"
)

// Tag restrictions (EC2 User Guide, "Tag your Amazon EC2 resources", tag
// restrictions): at most 50 tags per resource, keys of 1 to 128 and values
// of up to 256 Unicode characters, and the aws: prefix reserved for AWS.
const (
	maxTagsPerResource = 50
	maxTagKeyLen       = 128
	maxTagValueLen     = 256
)

// validateTag checks one tag. The reserved-prefix message is the one EC2
// sends ("An error occurred (InvalidParameterValue) when calling the
// CreateImage operation: Tag keys starting with 'aws:' are reserved for
// internal use").
func validateTag(k, v string) *apiError {
	switch {
	case k == "":
		return errInvalidValue("Tag key cannot be empty")
	case utf8.RuneCountInString(k) > maxTagKeyLen:
		return errInvalidValue("Tag key exceeds the maximum length of %d characters", maxTagKeyLen)
	case utf8.RuneCountInString(v) > maxTagValueLen:
		return errInvalidValue("Tag value exceeds the maximum length of %d characters", maxTagValueLen)
	case strings.HasPrefix(strings.ToLower(k), "aws:"):
		return errInvalidValue("Tag keys starting with 'aws:' are reserved for internal use")
	}
	return nil
}

// parseTags reads Tag.N.Key / Tag.N.Value.
func parseTags(p params) (map[string]string, *apiError) {
	tags := map[string]string{}
	for _, m := range p.members("Tag") {
		k, v := m.str("Key"), m.str("Value")
		if err := validateTag(k, v); err != nil {
			return nil, err
		}
		if _, dup := tags[k]; dup {
			return nil, errInvalidValue("Duplicate tag key '%s' specified", k)
		}
		tags[k] = v
	}
	if len(tags) > maxTagsPerResource {
		return nil, errTagLimit()
	}
	return tags, nil
}

// errTagLimit is TagLimitExceeded ("You've reached the limit on the number
// of tags that you can assign to the specified resource", EC2 error codes).
func errTagLimit() *apiError {
	return clientError("TagLimitExceeded", "The maximum number of tags per resource is %d", maxTagsPerResource)
}

// parseTagSpecs reads TagSpecification.N (ResourceType plus Tag.M) and
// returns the tags per resource type. Each action accepts its own resource
// types; any other is refused.
func parseTagSpecs(p params, allowed ...string) (map[string]map[string]string, *apiError) {
	out := map[string]map[string]string{}
	for _, spec := range p.members("TagSpecification") {
		rt := spec.str("ResourceType")
		if !contains(allowed, rt) {
			return nil, errInvalidValue("'%s' is not a valid taggable resource type for this operation.", rt)
		}
		if _, dup := out[rt]; dup {
			return nil, errInvalidValue("The same resource type may not be specified more than once in tag specifications")
		}
		tags, err := parseTags(spec)
		if err != nil {
			return nil, err
		}
		out[rt] = tags
	}
	return out, nil
}

// copyTags returns a fresh map, never nil.
func copyTags(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

type returnResult struct {
	Return bool `xml:"return"`
}

// createTags implements CreateTags on instances, security groups, volumes,
// network interfaces, subnets, VPCs and images. It is all or nothing: an
// unknown resource or a tag limit fails the whole call.
func (s *Server) createTags(p params) (any, *apiError) {
	ids := p.list("ResourceId")
	if len(ids) == 0 {
		return nil, errMissing("ResourceId")
	}
	tags, err := parseTags(p)
	if err != nil {
		return nil, err
	}
	if len(tags) == 0 {
		return nil, errMissing("Tag")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	targets, err := s.taggables(ids)
	if err != nil {
		return nil, err
	}
	for _, t := range targets {
		if merged := len(mergeTags(copyTags(t), tags)); merged > maxTagsPerResource {
			return nil, errTagLimit()
		}
	}
	if err := checkDryRun(p); err != nil {
		return nil, err
	}
	for _, t := range targets {
		mergeTags(t, tags)
	}
	return returnResult{true}, nil
}

func mergeTags(dst, src map[string]string) map[string]string {
	for k, v := range src {
		dst[k] = v
	}
	return dst
}

// deleteTags implements DeleteTags: Tag.N.Key alone deletes the key, with
// Tag.N.Value only when the value matches, and no Tag.N at all deletes every
// tag (EC2 API Reference, "DeleteTags").
func (s *Server) deleteTags(p params) (any, *apiError) {
	ids := p.list("ResourceId")
	if len(ids) == 0 {
		return nil, errMissing("ResourceId")
	}
	for _, m := range p.members("Tag") {
		if strings.HasPrefix(strings.ToLower(m.str("Key")), "aws:") {
			return nil, errInvalidValue("Tag keys starting with 'aws:' are reserved for internal use")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	targets, err := s.taggables(ids)
	if err != nil {
		return nil, err
	}
	if err := checkDryRun(p); err != nil {
		return nil, err
	}
	for _, t := range targets {
		removeTags(t, p.members("Tag"))
	}
	return returnResult{true}, nil
}

func removeTags(tags map[string]string, specs []params) {
	if len(specs) == 0 {
		for k := range tags {
			delete(tags, k)
		}
		return
	}
	for _, m := range specs {
		k := m.str("Key")
		if v, ok := tags[k]; ok && (!m.has("Value") || m.str("Value") == v) {
			delete(tags, k)
		}
	}
}

// taggables resolves resource ids to their tag maps by id prefix.
func (s *Server) taggables(ids []string) ([]map[string]string, *apiError) {
	var out []map[string]string
	for _, id := range ids {
		tags, err := s.tagsOf(id)
		if err != nil {
			return nil, err
		}
		out = append(out, tags)
	}
	return out, nil
}

func (s *Server) tagsOf(id string) (map[string]string, *apiError) {
	prefix, _, _ := strings.Cut(id, "-")
	switch prefix {
	case "i":
		return lookupTags(id, instanceIDs, s.instances, func(i *instance) map[string]string { return i.tags })
	case "sg":
		return lookupTags(id, groupIDs, s.liveGroups(), func(g *securityGroup) map[string]string { return g.tags })
	case "subnet":
		return lookupTags(id, subnetIDs, s.subnets, func(sn *subnet) map[string]string { return sn.tags })
	case "vpc":
		return lookupTags(id, vpcIDs, s.vpcs, func(v *vpc) map[string]string { return v.tags })
	case "ami":
		return lookupTags(id, imageIDs, s.images, func(im *image) map[string]string { return im.Tags })
	case "vol":
		return lookupTags(id, volumeIDs, s.volumes, func(v *volume) map[string]string { return v.tags })
	case "eni":
		return lookupTags(id, eniIDs, s.enis, func(e *networkInterface) map[string]string { return e.tags })
	}
	return nil, clientError("InvalidID", "The ID '%s' is not valid", id)
}

var (
	volumeIDs = idKind{"vol", "InvalidVolumeID.Malformed", func(ids []string) *apiError {
		return clientError("InvalidVolume.NotFound", "The volume '%s' does not exist.", strings.Join(ids, ", "))
	}}
	eniIDs = idKind{"eni", "InvalidNetworkInterfaceID.Malformed", func(ids []string) *apiError {
		return clientError("InvalidNetworkInterfaceID.NotFound", "The networkInterface ID '%s' does not exist", strings.Join(ids, ", "))
	}}
)

func lookupTags[T any](id string, kind idKind, m map[string]T, tags func(T) map[string]string) (map[string]string, *apiError) {
	found, err := selectIDs([]string{id}, kind, func(id string) (T, bool) { v, ok := m[id]; return v, ok })
	if err != nil {
		return nil, err
	}
	return tags(found[0]), nil
}
