package protocol

import "github.com/gorpcx/gorpcx/internal/jsonscan"

// detect chooses the dialect for an auto-detecting codec from its first
// message, by aiorpcX's rules (JSONRPCAutoDetect.detect_protocol): an
// object suggests a dialect (see fields.dialect); a batch takes its
// members' dialect if they agree, else 2.0 if any member suggests it,
// else 1.0 if any does, else Loose; anything else is Loose. A message
// that is not valid JSON returns a parse error and leaves the codec
// undecided.
func (c *codec) detect(msg []byte) (Dialect, *ProtocolError) {
	s := newScanner(msg, c.maxDepth)
	i := s.SkipSpace(0)
	if i >= len(msg) {
		return Auto, s.parseError(i, jsonscan.EOF)
	}
	var f fields
	var err jsonscan.Err
	switch msg[i] {
	case '{':
		if i, err = s.object(i, 1, rpcNames, &f); err == jsonscan.OK {
			i, err = s.End(i)
		}
		if err != jsonscan.OK {
			return Auto, s.parseError(i, err)
		}
		return f.dialect(), nil
	case '[':
		var seen uint8 // bit d: a member suggests dialect d
		if i = s.SkipSpace(i + 1); i < len(msg) && msg[i] == ']' {
			i++
		} else {
			for {
				if i >= len(msg) {
					return Auto, s.parseError(i, jsonscan.EOF)
				}
				if msg[i] == '{' {
					i, err = s.object(i, 2, rpcNames, &f)
					seen |= 1 << f.dialect()
				} else {
					i, err = s.Value(i, 1)
					seen |= 1 << Loose
				}
				if err != jsonscan.OK {
					return Auto, s.parseError(i, err)
				}
				if i = s.SkipSpace(i); i >= len(msg) {
					return Auto, s.parseError(i, jsonscan.EOF)
				}
				if msg[i] == ']' {
					i++
					break
				}
				if msg[i] != ',' {
					return Auto, s.parseError(i, jsonscan.Syntax)
				}
				i = s.SkipSpace(i + 1)
			}
		}
		if i, err = s.End(i); err != jsonscan.OK {
			return Auto, s.parseError(i, err)
		}
		// When all members agree this picks their dialect too.
		switch {
		case seen&(1<<V2) != 0:
			return V2, nil
		case seen&(1<<V1) != 0:
			return V1, nil
		}
		return Loose, nil
	}
	if i, err = s.Value(i, 0); err == jsonscan.OK {
		i, err = s.End(i)
	}
	if err != jsonscan.OK {
		return Auto, s.parseError(i, err)
	}
	return Loose, nil
}
