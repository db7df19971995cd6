// Command gen writes the json-extraction suite's dataset (cases.jsonl):
// customer messages that state some of a name, an email, an order ID and an
// amount, each with the JSON object a model should extract. Deterministic
// (fixed seed); split 70/30.
//
//	go run ./suites/builtin/json-extraction/gen -o suites/builtin/json-extraction/cases.jsonl
package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/yardstick-eval/yardstick/suites/builtin/internal/gencases"
)

// Fields is the expected extraction; nil means "not stated".
type Fields struct {
	CustomerName *string  `json:"customer_name"`
	Email        *string  `json:"email"`
	OrderID      *string  `json:"order_id"`
	Amount       *float64 `json:"amount"`
}

// Case is one line of cases.jsonl.
type Case struct {
	ID       string            `json:"id"`
	Split    string            `json:"split"`
	Text     string            `json:"text"`
	Expected Fields            `json:"expected"`
	Tags     map[string]string `json:"tags"`
}

// Templates name the fields they state: {name}, {email}, {order}, {amount}.
var templates = []string{
	"Hi, I'm {name} ({email}). Order {order} was charged {amount} but the listed price was lower.",
	"Order {order}: I was billed {amount} twice. Contact me at {email}.",
	"This is {name}. I still haven't received order {order}.",
	"Please update the email on my account to {email}. Thanks, {name}",
	"Can you refund the {amount} for {order}?",
	"My name is {name} and I need an invoice for the {amount} I paid. Reach me at {email}.",
	"{name} here - order {order} arrived damaged.",
	"Email: {email} / Order: {order} / Amount: {amount}",
	"Hello, {name} writing about {order}. The total of {amount} is wrong; please reply to {email}.",
	"Where is my package? It's been two weeks.",
	"I paid {amount} yesterday but got no confirmation email.",
	"Hey, could someone call me back? It's {name}, about order {order}.",
}

var (
	names   = []string{"Maria Lopez", "John Carter", "Priya Nair", "Tom Becker", "Aisha Khan", "Lukas Meyer", "Chen Wei", "Sofia Rossi", "Dave O'Brien", "Emma Dubois"}
	domains = []string{"example.com", "mail.example.org", "example.net"}
	amounts = []struct {
		text  string
		value float64
	}{{"$49.99", 49.99}, {"€120", 120}, {"USD 15.50", 15.5}, {"$1,249.00", 1249}, {"£7.25", 7.25}, {"$300", 300}, {"€89.90", 89.9}}
)

func orderID(r *rand.Rand) string {
	if r.IntN(2) == 0 {
		return fmt.Sprintf("%c%d", 'A'+rune(r.IntN(26)), 10000+r.IntN(90000))
	}
	return fmt.Sprintf("ORD-%d", 1000000+r.IntN(9000000))
}

func email(r *rand.Rand, name string) string {
	parts := strings.Fields(strings.ToLower(strings.ReplaceAll(name, "'", "")))
	return parts[0] + "." + parts[len(parts)-1] + strconv.Itoa(r.IntN(90)+10) + "@" + domains[r.IntN(len(domains))]
}

func generate() []Case {
	r := rand.New(rand.NewPCG(20240612, 3))
	var cases []Case
	seen := map[string]bool{}
	for round := 0; len(cases) < 48; round++ {
		for _, t := range templates {
			if len(cases) >= 48 {
				break
			}
			name := names[r.IntN(len(names))]
			em, order := email(r, name), orderID(r)
			am := amounts[r.IntN(len(amounts))]
			var f Fields
			text := t
			if strings.Contains(t, "{name}") {
				f.CustomerName = &name
				text = strings.ReplaceAll(text, "{name}", name)
			}
			if strings.Contains(t, "{email}") {
				f.Email = &em
				text = strings.ReplaceAll(text, "{email}", em)
			}
			if strings.Contains(t, "{order}") {
				f.OrderID = &order
				text = strings.ReplaceAll(text, "{order}", order)
			}
			if strings.Contains(t, "{amount}") {
				v := am.value
				f.Amount = &v
				text = strings.ReplaceAll(text, "{amount}", am.text)
			}
			if seen[text] {
				continue
			}
			seen[text] = true
			cases = append(cases, Case{Text: text, Expected: f, Tags: map[string]string{"template": strconv.Itoa(indexOf(t))}})
		}
	}
	r.Shuffle(len(cases), func(i, j int) { cases[i], cases[j] = cases[j], cases[i] })
	for i := range cases {
		cases[i].ID = fmt.Sprintf("je-%03d", i+1)
		cases[i].Split = "train"
		if i%10 >= 7 {
			cases[i].Split = "test"
		}
	}
	return cases
}

func indexOf(t string) int {
	for i, x := range templates {
		if x == t {
			return i
		}
	}
	return -1
}

func main() { gencases.Main(generate) }
