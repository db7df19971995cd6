// Command gen writes the customer-support suite's dataset (cases.jsonl):
// customer messages built from hand-written templates and slot fillers in
// English with some Spanish, French, German, Portuguese and Italian, varied
// with greetings, sign-offs, lower case and typos. It is deterministic (fixed
// seed): rerunning it reproduces the committed file byte for byte, which
// gen's test checks. Each underlying sentence appears once, so no message is
// shared between splits; the split is stratified by intent, 70% train and
// 30% test.
//
//	go run ./suites/builtin/customer-support/gen -o suites/builtin/customer-support/cases.jsonl
package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"unicode"

	"github.com/yardstick-eval/yardstick/suites/builtin/internal/gencases"
)

// intent is one label with its English templates and a few in other languages.
type intent struct {
	label   string
	en      []string
	foreign [][2]string // {lang, template}
}

var intents = []intent{
	{"refund_request", []string{
		"I'd like a refund for order {order}.",
		"Can I get my money back for the {product}? It's not what I expected.",
		"Please refund the {amount} you charged me for order {order}.",
		"I returned the {product} {date} and still haven't received my refund.",
		"When will my refund for {order} be processed?",
		"The {product} arrived broken. I want a full refund, not a replacement.",
		"I was promised a refund of {amount} two weeks ago. Where is it?",
		"I cancelled my subscription but you still charged me {amount}. Please refund it.",
		"How long does it take for a refund to show up on my {pay}?",
		"I want my money back. The {product} stopped working after {days} days.",
		"The package never showed up, so I just want a refund for {order}.",
		"Please process a refund to my original payment method for order {order}.",
		"Is it possible to get a partial refund? The {product} has a scratch on it.",
		"You said the refund was issued {date} but there's nothing on my {pay} statement.",
		"I'd like to be reimbursed for the {product}, it was defective.",
		"Refund please. Order {order}. The {apparel} is the wrong size and I don't want an exchange.",
		"Can you refund the shipping fee? The {product} arrived {days} days late.",
		"Money back please, the {product} is nothing like the description.",
	}, [][2]string{
		{"es", "Quiero que me devuelvan el dinero del pedido {order}."},
		{"fr", "Je voudrais être remboursé pour la commande {order}."},
		{"de", "Ich möchte eine Rückerstattung für die Bestellung {order}."},
		{"pt", "Quero o reembolso do meu pedido {order}, por favor."},
		{"it", "Vorrei un rimborso per l'ordine {order}."},
	}},
	{"order_status", []string{
		"Where is my order {order}?",
		"Can you tell me the status of order {order}?",
		"Has my {product} shipped yet?",
		"I ordered a {product} {date}. Any update on when it ships?",
		"What's the tracking number for {order}?",
		"Is order {order} still being processed?",
		"Just checking whether my order for the {product} went through and when it will arrive.",
		"When will my {product} be delivered?",
		"Could you send me the tracking link for order {order}?",
		"The app says 'preparing' for order {order}. What does that mean?",
		"Which carrier is delivering order {order}?",
		"Can I check the expected delivery date for {order}?",
		"What is the current status of my purchase of a {product}?",
		"Has {order} left the warehouse yet?",
		"order status {order}",
		"is my {product} on its way?",
	}, [][2]string{
		{"es", "¿Dónde está mi pedido {order}?"},
		{"fr", "Où en est ma commande {order} ?"},
		{"de", "Wo ist meine Bestellung {order}? Gibt es eine Sendungsnummer?"},
		{"pt", "Qual é o status do meu pedido {order}?"},
		{"it", "Dov'è il mio ordine {order}?"},
	}},
	{"cancel_order", []string{
		"Please cancel my order {order}.",
		"I want to cancel the {product} I ordered {date}.",
		"Can I still cancel order {order}? I ordered it by mistake.",
		"Cancel {order} please, I found it cheaper elsewhere.",
		"I placed a duplicate order, please cancel {order}.",
		"How do I cancel an order for a {product} that hasn't shipped yet?",
		"I changed my mind about the {product}, please stop the order before it ships.",
		"Is it too late to cancel order {order}? I placed it an hour ago.",
		"Please void order {order}, I don't need it anymore.",
		"I need to cancel my purchase of the {product}.",
		"I accidentally ordered the {product} twice. Can you cancel one of them?",
		"Don't ship order {order}. Cancel it.",
		"cancel my order {order} pls",
		"I want to cancel order {order} and order the {product} in a different color instead.",
	}, [][2]string{
		{"es", "Quiero cancelar mi pedido {order}."},
		{"fr", "Pouvez-vous annuler ma commande {order} ?"},
		{"de", "Bitte stornieren Sie meine Bestellung {order}."},
		{"pt", "Preciso cancelar o pedido {order}."},
		{"it", "Vorrei annullare l'ordine {order}."},
	}},
	{"change_address", []string{
		"I need to change the shipping address for order {order}.",
		"I moved last week. Can you update the delivery address to {street}, {city}?",
		"Wrong address on order {order}! It should go to {street}, {city}.",
		"Can you ship order {order} to my office instead? The address is {street}, {city}.",
		"I made a typo in my address, the apartment number is missing on {order}. Can you fix it?",
		"Please update my default shipping address to {street}, {city}.",
		"Can you redirect my package to {street}? I won't be home.",
		"How do I change the delivery address after placing order {order}?",
		"The zip code on order {order} is wrong, it should be {zip}.",
		"Please deliver the {product} to my parents' house at {street}, {city} instead.",
		"Is it possible to change where order {order} is going? It's still processing.",
		"Need to update the address on {order} asap, I'm moving to {city} tomorrow.",
	}, [][2]string{
		{"es", "Necesito cambiar la dirección de envío del pedido {order}."},
		{"fr", "J'ai déménagé, pouvez-vous changer l'adresse de livraison de la commande {order} ?"},
		{"de", "Können Sie die Lieferadresse für {order} auf {street}, {city} ändern?"},
		{"pt", "Quero alterar o endereço de entrega do pedido {order}."},
		{"it", "Devo cambiare l'indirizzo di consegna dell'ordine {order}."},
	}},
	{"payment_issue", []string{
		"My {pay} was declined at checkout but I have enough funds.",
		"I was charged twice for order {order}.",
		"Payment keeps failing when I try to buy the {product}.",
		"Why was I charged {amount} when the total at checkout said {amount2}?",
		"The checkout says 'payment could not be processed' with my {pay}.",
		"I see a pending charge of {amount} but my order didn't go through.",
		"I can't pay with {pay}, it doesn't show up as an option at checkout.",
		"My coupon was applied but I was still charged the full {amount}.",
		"There's a charge of {amount} from your company on my {pay} statement that I don't recognize.",
		"I got an error saying my {pay} was declined, but the bank says everything is fine.",
		"The {pay} payment for {order} went through twice. Please fix it.",
		"How do I update the card on file? My old one expired and the payment for {order} failed.",
		"Your site charged me in euros instead of dollars for order {order}.",
	}, [][2]string{
		{"es", "Me cobraron dos veces el pedido {order}."},
		{"fr", "Mon paiement par {pay} a été refusé, pourquoi ?"},
		{"de", "Meine Zahlung mit {pay} wurde abgelehnt."},
		{"pt", "Meu cartão foi recusado na hora de pagar o pedido {order}."},
		{"it", "Mi avete addebitato due volte {amount}."},
	}},
	{"technical_problem", []string{
		"The app crashes every time I open my cart on my {device}.",
		"Your website shows {error} when I click checkout.",
		"I can't add the {product} to my cart, the button does nothing.",
		"The page keeps loading forever on my {device}.",
		"Images aren't loading on the product pages on my {device}.",
		"I get {error} whenever I try to leave a review for the {product}.",
		"The search bar isn't returning any results, even for '{product}'.",
		"After the latest update, the app freezes on the home screen on my {device}.",
		"A promo banner covers the checkout button on my {device}, I can't click it.",
		"Notifications from the app aren't working on my {device}.",
		"The size chart link on the {product} page is broken.",
		"Is your website down? I just get {error}.",
		"The order history page is blank on my {device}.",
	}, [][2]string{
		{"es", "La aplicación se cierra cada vez que intento pagar en mi {device}."},
		{"fr", "Le site affiche {error} quand je clique sur le panier."},
		{"de", "Die App stürzt auf meinem {device} ständig ab."},
		{"pt", "O site não carrega no meu {device}."},
		{"it", "L'app si blocca quando apro il carrello sul mio {device}."},
	}},
	{"account_access", []string{
		"I can't log in to my account.",
		"I forgot my password and the reset email never arrives.",
		"My account is locked after too many login attempts.",
		"I'm not receiving the two-factor code on my {device}.",
		"It says my email isn't registered, but I've ordered from you before.",
		"How do I reset my password?",
		"I lost access to the email on my account. How can I get back in?",
		"Someone changed my password, I think my account was hacked.",
		"The password reset link says it has expired.",
		"Login fails with 'invalid credentials' even though my password is correct.",
		"I signed up with Google and now I can't sign in with my email on my {device}.",
		"Can you unlock my account? My username is {user}.",
		"verification code not working, can't get into my account on the {device}",
		"I keep getting logged out and can't sign back in as {user}.",
	}, [][2]string{
		{"es", "No puedo iniciar sesión en mi cuenta."},
		{"fr", "J'ai oublié mon mot de passe et je ne reçois pas l'e-mail de réinitialisation."},
		{"de", "Ich kann mich nicht mehr in mein Konto einloggen."},
		{"pt", "Minha conta foi bloqueada, não consigo entrar."},
		{"it", "Non riesco ad accedere al mio account."},
	}},
	{"product_question", []string{
		"Is the {product} waterproof?",
		"Does the {apparel} come in other colors?",
		"What's the difference between the {gadget} Pro and the {gadget} Lite?",
		"Will the {product} be back in stock soon?",
		"Is the {gadget} compatible with my {device}?",
		"What size should I order for the {apparel}? I'm usually a medium.",
		"Does the {product} come with a warranty?",
		"How long does the battery of the {gadget} last?",
		"Is the {apparel} machine washable?",
		"What are the dimensions of the {product}?",
		"Do you sell replacement parts for the {product}?",
		"Is the {gadget} suitable for kids?",
		"What material is the {product} made of?",
		"Does the {gadget} include a charger in the box?",
	}, [][2]string{
		{"es", "¿La chaqueta es resistente al agua?"},
		{"fr", "Est-ce que ce sac à dos existe en d'autres couleurs ?"},
		{"de", "Ist die Smartwatch mit meinem {device} kompatibel?"},
		{"pt", "A cafeteira tem garantia?"},
		{"it", "Quando tornerà disponibile il frullatore?"},
	}},
	{"complaint", []string{
		"Your customer service is terrible. Nobody answers my emails.",
		"I'm very disappointed with the quality of your products lately.",
		"The delivery driver was rude and threw my {product} over the fence.",
		"I've been a loyal customer for {years} years and this is how you treat me?",
		"Your agent hung up on me. Unacceptable.",
		"The packaging was excessive, so much plastic for a tiny {gadget}.",
		"I waited {minutes} minutes on hold. This is ridiculous.",
		"Worst shopping experience ever. I will never order from you again.",
		"I want to file a formal complaint about the staff at your {city} store.",
		"Your ads are misleading, the {product} looks nothing like the pictures.",
		"I keep getting marketing emails from you even after unsubscribing.",
		"Nobody has replied to my ticket in {days} days. I'm fed up.",
		"The chat bot is useless and I can't reach a human.",
		"Really unhappy with how my last issue was handled by your team in {city}.",
	}, [][2]string{
		{"es", "Su servicio al cliente es pésimo, nadie responde."},
		{"fr", "Je suis très mécontent du service, c'est inadmissible."},
		{"de", "Ich bin mit Ihrem Kundenservice sehr unzufrieden."},
		{"pt", "Péssimo atendimento, ninguém resolve nada."},
		{"it", "Il vostro servizio clienti è pessimo."},
	}},
	{"shipping_delay", []string{
		"My order {order} was supposed to arrive {date} and it still isn't here.",
		"It's been {days} days and my package hasn't arrived.",
		"The delivery date keeps getting pushed back for {order}.",
		"Tracking for {order} hasn't moved in a week, it's stuck in {city}.",
		"Expected delivery was {date}. Why is my {product} late?",
		"My package is late again. I needed the {product} for a birthday.",
		"{carrier} says my parcel for {order} is delayed. How much longer?",
		"Still waiting for my order, it's {days} days overdue.",
		"You promised 2-day shipping but it's been {days} days.",
		"My package has been 'in transit' for {days} days. What's going on?",
		"The estimated delivery date passed {date} and nothing has arrived.",
		"Why is shipping taking so long? I ordered the {product} weeks ago.",
	}, [][2]string{
		{"es", "Mi pedido {order} debía llegar el lunes y todavía no ha llegado."},
		{"fr", "Ma commande {order} a {days} jours de retard."},
		{"de", "Mein Paket ist seit {days} Tagen überfällig."},
		{"pt", "Meu pedido está atrasado há {days} dias."},
		{"it", "Il mio pacco è in ritardo di {days} giorni."},
	}},
	{"return_item", []string{
		"How do I return the {apparel}? It doesn't fit.",
		"I need a return label for order {order}.",
		"Can I exchange the {apparel} for a larger size?",
		"What's your return policy for an opened {product}?",
		"I'd like to send back the {apparel}, it's the wrong color.",
		"Can I return a {product} I bought in your {city} store by mail?",
		"I received the wrong item in order {order}, how do I send it back?",
		"Is it too late to return the {product}? I bought it {days} days ago.",
		"Where do I drop off a return? Is {carrier} ok?",
		"Please send me a prepaid return label for the {product}.",
		"I want to swap the {apparel} for a different color.",
		"Do I have to pay for return shipping on order {order}?",
		"I started a return for {order} but never got the label.",
	}, [][2]string{
		{"es", "¿Cómo puedo devolver las zapatillas? No me quedan bien."},
		{"fr", "Je voudrais retourner la veste, la taille ne convient pas."},
		{"de", "Wie kann ich die Kopfhörer zurückschicken?"},
		{"pt", "Quero trocar o tênis por um tamanho maior."},
		{"it", "Come posso restituire la giacca?"},
	}},
	{"invoice_request", []string{
		"Can you send me an invoice for order {order}?",
		"I need a VAT invoice for my company, order {order}.",
		"Where can I download the receipt for my {product} purchase?",
		"Please email me a copy of the receipt for the {product}.",
		"The invoice for {order} is missing my company name, can you reissue it?",
		"I need an itemized receipt for order {order} for my expense report.",
		"Could you resend the invoice for {order}? I deleted the email.",
		"Can I get an invoice with my tax ID on it for order {order}?",
		"How do I get a PDF invoice for orders I placed {date}?",
		"I need proof of purchase for the {product} for a warranty claim.",
	}, [][2]string{
		{"es", "¿Me pueden enviar la factura del pedido {order}?"},
		{"fr", "Pouvez-vous m'envoyer la facture de la commande {order} ?"},
		{"de", "Ich benötige eine Rechnung für die Bestellung {order}."},
		{"pt", "Preciso da nota fiscal do pedido {order}."},
		{"it", "Mi servirebbe la fattura dell'ordine {order}."},
	}},
}

var slots = map[string][]string{
	"product": {"wireless headset", "coffee maker", "phone case", "winter jacket", "standing desk",
		"yoga mat", "smart watch", "air fryer", "backpack", "desk lamp", "blender", "bluetooth speaker",
		"rain jacket", "office chair", "electric toothbrush", "laptop sleeve", "water bottle",
		"gaming mouse", "mechanical keyboard", "baby stroller", "duvet cover", "kettle",
		"fitness tracker", "tablet stand", "vacuum cleaner", "hoodie", "pair of running shoes"},
	"apparel": {"winter jacket", "rain jacket", "hoodie", "denim jacket", "sweater", "dress",
		"pair of running shoes", "pair of hiking boots", "pair of jeans", "raincoat"},
	"gadget": {"wireless headset", "smart watch", "bluetooth speaker", "fitness tracker", "gaming mouse",
		"mechanical keyboard", "electric toothbrush", "e-reader", "action camera", "baby monitor"},
	"date": {"on Monday", "last Friday", "on March 3", "two weeks ago", "on the 12th", "yesterday",
		"last week", "on Tuesday", "on June 21", "ten days ago", "at the start of the month"},
	"amount": {"$49.99", "$129.00", "$18.50", "€35", "€89.90", "£24.99", "$299", "$7.95", "€12.40", "$64.20"},
	"pay":    {"Visa", "Mastercard", "PayPal", "Apple Pay", "debit card", "Amex", "credit card", "Google Pay"},
	"device": {"iPhone", "Android phone", "iPad", "laptop", "Samsung tablet", "Pixel", "Mac", "Windows PC"},
	"error": {"error 500", "a blank white page", "'Something went wrong'", "error code E-1042",
		"a 404 page", "an endless spinner", "'Service unavailable'"},
	"street": {"42 Elm Street", "17 Rue des Lilas", "221B Baker Street", "1600 Pine Ave, Apt 5",
		"8 Harbour Road", "350 Fifth Avenue, Suite 12", "77 Maple Drive", "9 Kingsway, Flat 3"},
	"city": {"Springfield", "Austin", "Leeds", "Toronto", "Denver", "Lyon", "Dublin", "Portland",
		"Melbourne", "Chicago", "Bristol", "Seattle"},
	"zip":     {"94107", "10001", "73301", "60614", "02139", "98101", "30303"},
	"carrier": {"UPS", "FedEx", "DHL", "USPS", "Royal Mail", "the courier", "DPD"},
	"user":    {"jsmith84", "maria.g", "tomk", "anna_b", "lee.wong", "k.patel"},
	"days":    {"5", "8", "10", "12", "14", "17", "21", "30"},
	"years":   {"3", "5", "8", "10", "12"},
	"minutes": {"30", "45", "50", "60", "90"},
}

var (
	greetings = []string{"Hi,", "Hello,", "Hey there!", "Good morning.", "Hi team,", "Hello support,",
		"Dear customer service,", "hi", "Hey,", "Hello!"}
	signoffs = []string{"Thanks.", "Thank you!", "Thanks in advance.", "Please help.", "Cheers",
		"Regards, {name}", "asap please", "Thx", "Best, {name}"}
	names = []string{"Maria", "John", "Priya", "Tom", "Aisha", "Lukas", "Chen", "Sofia", "Dave"}
)

// Case is one line of cases.jsonl.
type Case struct {
	ID       string            `json:"id"`
	Split    string            `json:"split"`
	Text     string            `json:"text"`
	Expected string            `json:"expected"`
	Tags     map[string]string `json:"tags"`
}

const (
	perIntentEN = 30 // English cases per intent (fewer when templates run out of distinct fills)
	trainShare  = 0.7
)

// fill replaces each {slot} in t with a filler; {amount2} differs from
// {amount}, and a slot used twice has one value.
func fill(r *rand.Rand, t string) string {
	chosen := map[string]string{}
	var b strings.Builder
	for {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			b.WriteString(t)
			return b.String()
		}
		j := strings.IndexByte(t[i:], '}') + i
		b.WriteString(t[:i])
		name := t[i+1 : j]
		base := strings.TrimSuffix(name, "2")
		v, repeated := chosen[name]
		switch {
		case repeated: // the same slot twice in a template has one value
		case base == "order":
			v = orderNumber(r)
		case base == "name":
			v = names[r.IntN(len(names))]
		default:
			opts := slots[base]
			if opts == nil {
				panic("unknown slot " + name)
			}
			for {
				v = opts[r.IntN(len(opts))]
				if name == base || v != chosen[base] {
					break
				}
			}
		}
		chosen[name] = v
		b.WriteString(v)
		t = t[j+1:]
	}
}

func orderNumber(r *rand.Rand) string {
	switch r.IntN(4) {
	case 0:
		return fmt.Sprintf("#%d", 100000+r.IntN(900000))
	case 1:
		return fmt.Sprintf("%c%d", 'A'+rune(r.IntN(26)), 10000+r.IntN(90000))
	case 2:
		return fmt.Sprintf("ORD-%d", 1000000+r.IntN(9000000))
	default:
		return fmt.Sprintf("#%d", 10000+r.IntN(90000))
	}
}

// typo changes one word of five or more letters: swaps two inner letters,
// drops one or doubles one.
func typo(r *rand.Rand, s string) (string, bool) {
	words := strings.Split(s, " ")
	var cand []int
	for i, w := range words {
		if len(w) >= 5 && strings.IndexFunc(w, func(c rune) bool { return !unicode.IsLetter(c) || c > unicode.MaxASCII }) < 0 {
			cand = append(cand, i)
		}
	}
	if len(cand) == 0 {
		return s, false
	}
	i := cand[r.IntN(len(cand))]
	w := []byte(words[i])
	k := 1 + r.IntN(len(w)-2)
	switch r.IntN(3) {
	case 0:
		w[k], w[k+1] = w[k+1], w[k]
	case 1:
		w = append(w[:k], w[k+1:]...)
	default:
		w = append(w[:k+1], w[k:]...)
	}
	words[i] = string(w)
	return strings.Join(words, " "), true
}

// dress varies a message the way customers write: greeting, sign-off (in
// English only), lower case, missing final punctuation, a typo.
func dress(r *rand.Rand, s string, english bool) (string, bool) {
	if english && r.Float64() < 0.25 {
		g := greetings[r.IntN(len(greetings))]
		if strings.HasSuffix(g, ",") || g == "hi" {
			s = decapitalize(s)
		}
		s = g + " " + s
	}
	if english && r.Float64() < 0.25 {
		s = s + " " + fill(r, signoffs[r.IntN(len(signoffs))])
	}
	if r.Float64() < 0.12 {
		s = strings.ToLower(s)
	}
	if r.Float64() < 0.15 {
		s = strings.TrimRight(s, ".!")
	}
	typoed := false
	if english && r.Float64() < 0.2 {
		s, typoed = typo(r, s)
	}
	return s, typoed
}

// decapitalize lower-cases the first letter unless the first word is "I",
// "I'm", "I'd" … or an all-capitals word such as an order number.
func decapitalize(s string) string {
	first, _, _ := strings.Cut(s, " ")
	if first == "I" || strings.HasPrefix(first, "I'") || strings.ToUpper(first) == first {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// articles fixes "a" before a vowel sound in English ("a air fryer").
func articles(s string) string {
	words := strings.Split(s, " ")
	for i := 0; i+1 < len(words); i++ {
		if (words[i] == "a" || words[i] == "A") && words[i+1] != "" && strings.ContainsRune("aeiouAEIOU", rune(words[i+1][0])) {
			words[i] += "n"
		}
	}
	return strings.Join(words, " ")
}

func normalize(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(c rune) bool {
		return !unicode.IsLetter(c) && !unicode.IsDigit(c)
	}), " ")
}

// generate builds the cases in their final order with IDs and splits.
func generate() []Case {
	r := rand.New(rand.NewPCG(20240611, 7))
	seen := map[string]bool{} // normalised base sentences (before dressing)
	var all []Case
	for _, in := range intents {
		var cases []Case
		add := func(lang, base string) bool {
			key := normalize(base)
			if seen[key] {
				return false
			}
			seen[key] = true
			text, typoed := dress(r, base, lang == "en")
			tags := map[string]string{"lang": lang, "intent": in.label}
			if typoed {
				tags["typo"] = "true"
			}
			cases = append(cases, Case{Text: text, Expected: in.label, Tags: tags})
			return true
		}
		for attempts := 0; len(cases) < perIntentEN && attempts < 50*perIntentEN; attempts++ {
			add("en", articles(fill(r, in.en[attempts%len(in.en)])))
		}
		for _, f := range in.foreign {
			for try := 0; try < 5 && !add(f[0], fill(r, f[1])); try++ {
			}
		}
		// Stratified split: shuffle within the intent, first 70% train.
		gencases.SplitStratum(r, cases, trainShare, func(c *Case, split string) { c.Split = split })
		all = append(all, cases...)
	}
	gencases.ShuffleAndNumber(r, all, "cs", func(c *Case, id string) { c.ID = id })
	return all
}

func main() { gencases.Main(generate) }
