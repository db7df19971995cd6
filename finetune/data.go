package finetune

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"strings"

	"github.com/yardstick-eval/yardstick/providers"
)

// Example is one training conversation. Weights has one entry per message: 1
// for assistant messages the model is trained to produce, 0 for everything
// else (system and user messages always 0; assistant messages 0 when the file
// said "weight": 0).
type Example struct {
	Messages []providers.Message
	Weights  []float64
	Source   string // "file:line"
	Index    int    // 0-based position among the file's examples, for IsEval
}

// Dataset formats ReadExamples recognises.
const (
	FormatChat             = "chat"              // {"messages":[{"role":…,"content":…,"weight":0|1}]}
	FormatPromptCompletion = "prompt_completion" // {"prompt":…,"completion":…}
)

// ReadExamples streams the examples of a JSONL file. The format is detected
// from the first non-blank line and every line must then use it:
//
//   - OpenAI chat fine-tuning format: {"messages": [...]} with roles system
//     (or developer), user and assistant; content a string or a list of
//     {"type":"text","text":…} parts; an optional "weight" of 0 or 1 on
//     assistant messages. Each example needs an assistant message of weight 1.
//     Tool definitions, tool calls and non-text content are rejected. Other
//     fields (such as "name") are ignored.
//   - prompt/completion: {"prompt": "...", "completion": "..."}, read as a user
//     message followed by an assistant message.
//
// Blank lines are skipped. A bad line yields a zero Example and an
// *InputError naming file:line and field; iteration continues with the next
// line if the caller keeps ranging (callers that want strictness stop at the
// first error). An I/O error ends the sequence.
func ReadExamples(path string) iter.Seq2[Example, error] {
	return func(yield func(Example, error) bool) {
		f, err := os.Open(path)
		if err != nil {
			yield(Example{}, &InputError{File: path, Err: err})
			return
		}
		defer f.Close()
		for ex, err := range ParseExamples(f, path) {
			if !yield(ex, err) {
				return
			}
		}
	}
}

// ParseExamples is ReadExamples over a reader; name is used in errors.
func ParseExamples(r io.Reader, name string) iter.Seq2[Example, error] {
	return func(yield func(Example, error) bool) {
		br := bufio.NewReaderSize(r, 1<<16)
		format, formatLine := "", 0
		index := 0
		for lineNo := 1; ; lineNo++ {
			line, err := br.ReadBytes('\n')
			if len(line) > 0 {
				if lineNo == 1 {
					line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
				}
				if trimmed := bytes.TrimSpace(line); len(trimmed) > 0 {
					ex, perr := parseLine(trimmed, &format, &formatLine, lineNo)
					if perr != nil {
						var ie *InputError
						if errors.As(perr, &ie) {
							ie.File, ie.Line = name, lineNo
						}
						if !yield(Example{}, perr) {
							return
						}
					} else {
						ex.Source = fmt.Sprintf("%s:%d", name, lineNo)
						ex.Index = index
						index++
						if !yield(ex, nil) {
							return
						}
					}
				}
			}
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(Example{}, &InputError{File: name, Line: lineNo, Err: err})
				return
			}
		}
	}
}

type chatLine struct {
	Messages          []chatMessage   `json:"messages"`
	Tools             json.RawMessage `json:"tools"`
	Functions         json.RawMessage `json:"functions"`
	ParallelToolCalls json.RawMessage `json:"parallel_tool_calls"`
}

type chatMessage struct {
	Role         string          `json:"role"`
	Content      json.RawMessage `json:"content"`
	Weight       *float64        `json:"weight"`
	ToolCalls    json.RawMessage `json:"tool_calls"`
	FunctionCall json.RawMessage `json:"function_call"`
}

type pcLine struct {
	Prompt     *string `json:"prompt"`
	Completion *string `json:"completion"`
}

func bad(field, format string, args ...any) error {
	return &InputError{Field: field, Err: fmt.Errorf(format, args...)}
}

func present(raw json.RawMessage) bool {
	s := string(bytes.TrimSpace(raw))
	return s != "" && s != "null" && s != "[]" && s != "{}" && s != "false"
}

// parseLine parses one non-blank line, detecting the file's format on the
// first one.
func parseLine(line []byte, format *string, formatLine *int, lineNo int) (Example, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(line, &keys); err != nil {
		return Example{}, &InputError{Err: fmt.Errorf("not a JSON object: %v", err)}
	}
	lineFormat := ""
	switch {
	case keys["messages"] != nil:
		lineFormat = FormatChat
	case keys["prompt"] != nil || keys["completion"] != nil:
		lineFormat = FormatPromptCompletion
	default:
		return Example{}, &InputError{Err: errors.New(`neither "messages" (chat format) nor "prompt"/"completion"`)}
	}
	if *format == "" {
		*format, *formatLine = lineFormat, lineNo
	} else if lineFormat != *format {
		return Example{}, &InputError{Err: fmt.Errorf("%s line in a %s file (format detected from line %d)", lineFormat, *format, *formatLine)}
	}
	if lineFormat == FormatPromptCompletion {
		var pc pcLine
		if err := json.Unmarshal(line, &pc); err != nil {
			return Example{}, typeError(err)
		}
		if pc.Prompt == nil {
			return Example{}, bad("prompt", "missing")
		}
		if pc.Completion == nil {
			return Example{}, bad("completion", "missing")
		}
		return Example{
			Messages: []providers.Message{{Role: providers.RoleUser, Content: *pc.Prompt}, {Role: providers.RoleAssistant, Content: *pc.Completion}},
			Weights:  []float64{0, 1},
		}, nil
	}

	var cl chatLine
	if err := json.Unmarshal(line, &cl); err != nil {
		return Example{}, typeError(err)
	}
	if present(cl.Tools) || present(cl.Functions) {
		return Example{}, bad("tools", "tool and function definitions are not supported")
	}
	if len(cl.Messages) == 0 {
		return Example{}, bad("messages", "empty")
	}
	ex := Example{Messages: make([]providers.Message, 0, len(cl.Messages)), Weights: make([]float64, 0, len(cl.Messages))}
	trained := false
	for i, m := range cl.Messages {
		field := fmt.Sprintf("messages[%d]", i)
		role := m.Role
		switch role {
		case providers.RoleSystem, providers.RoleUser, providers.RoleAssistant:
		case "developer":
			role = providers.RoleSystem
		case "":
			return Example{}, bad(field+".role", "missing")
		case "tool", "function":
			return Example{}, bad(field+".role", "%q messages (tool results) are not supported", role)
		default:
			return Example{}, bad(field+".role", "%q: want system, user or assistant", role)
		}
		if present(m.ToolCalls) || present(m.FunctionCall) {
			return Example{}, bad(field+".tool_calls", "tool calls are not supported")
		}
		content, err := messageText(m.Content)
		if err != nil {
			return Example{}, bad(field+".content", "%v", err)
		}
		w := 0.0
		if role == providers.RoleAssistant {
			w = 1
		}
		if m.Weight != nil {
			if role != providers.RoleAssistant {
				return Example{}, bad(field+".weight", "only assistant messages may have a weight")
			}
			if *m.Weight != 0 && *m.Weight != 1 {
				return Example{}, bad(field+".weight", "must be 0 or 1, got %g", *m.Weight)
			}
			w = *m.Weight
		}
		if w > 0 {
			trained = true
		}
		ex.Messages = append(ex.Messages, providers.Message{Role: role, Content: content})
		ex.Weights = append(ex.Weights, w)
	}
	if !trained {
		return Example{}, bad("messages", "no assistant message with weight 1: nothing to train on")
	}
	return ex, nil
}

// messageText reads a message's content: a string, or a list of text parts.
func messageText(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", errors.New("missing")
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var parts []struct {
		Type string  `json:"type"`
		Text *string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", errors.New("want a string or a list of {\"type\":\"text\",\"text\":…} parts")
	}
	var sb strings.Builder
	for i, p := range parts {
		if p.Type != "text" || p.Text == nil {
			return "", fmt.Errorf("part %d: type %q is not supported (text only)", i, p.Type)
		}
		sb.WriteString(*p.Text)
	}
	return sb.String(), nil
}

func typeError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return bad(te.Field, "want %s, got JSON %s", jsonKind(te.Type), te.Value)
	}
	return &InputError{Err: err}
}
