// Command gen writes the Korean customer-support suite's dataset
// (cases.jsonl): customer messages in Korean built from hand-written
// templates and slot fillers, varied as real messages are — greetings and
// sign-offs, polite (-요, -습니다) and casual endings, spacing that comes and
// goes ("3~5 영업일" / "3~5영업일"), full-width digits. Each case carries
// its intent (the expected label) and the FAQ answer for that intent (faq),
// so a reply-writing suite can be built on the same data. Deterministic
// (fixed seed); the split is stratified by intent, 70% train, 30% test; no
// base sentence appears twice.
//
//	go run ./suites/builtin/customer-support-ko/gen -o suites/builtin/customer-support-ko/cases.jsonl
package main

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/yardstick-eval/yardstick/suites/builtin/internal/gencases"
)

type intent struct {
	label     string
	faq       string
	templates []string
}

var intents = []intent{
	{"교환", "교환은 상품 수령 후 7일 이내에 마이페이지 > 주문내역에서 신청하실 수 있습니다. 교환 배송비는 단순 변심의 경우 고객 부담(왕복 6,000원)입니다.", []string{
		"{상품} 사이즈가 안 맞아서 교환하고 싶어요.",
		"주문번호 {주문}인데 다른 색상으로 교환 가능한가요?",
		"{상품}을 한 치수 큰 걸로 바꾸고 싶습니다.",
		"받은 {상품} 색이 사진이랑 달라서 다른 걸로 교환 부탁드려요.",
		"교환 신청은 어디서 하나요? {상품} 사이즈 교환하려고요.",
		"{상품} 교환하면 배송비 제가 내야 하나요?",
		"어제 받은 {상품} 불량이라 새 제품으로 교환해 주세요.",
		"{상품} M으로 주문했는데 L로 바꿀 수 있을까요?",
		"선물 받은 {상품}을 다른 모델로 교환할 수 있나요?",
		"교환 접수했는데 회수 기사님이 언제 오시나요? 주문번호 {주문}입니다.",
		"{상품} 교환 요청합니다. 디자인이 생각했던 거랑 달라요.",
		"교환 가능 기간이 며칠인가요? {날짜}에 받았어요.",
	}},
	{"환불", "환불은 반품 상품이 물류센터에 도착한 뒤 3~5 영업일 안에 결제하신 수단으로 처리됩니다. 카드 결제는 카드사 사정에 따라 취소 반영이 더 걸릴 수 있습니다.", []string{
		"{상품} 반품했는데 환불은 언제 되나요?",
		"주문번호 {주문} 환불 요청합니다.",
		"{금액} 환불받아야 하는데 아직 안 들어왔어요.",
		"환불 처리 기간이 얼마나 걸리나요?",
		"{날짜}에 반품 보냈는데 환불 소식이 없네요.",
		"{상품}이 마음에 안 들어서 돈으로 돌려받고 싶어요.",
		"카드 결제 취소가 아직 안 됐어요. {금액}이요.",
		"부분 환불도 가능한가요? {상품} 하나만 반품하려고요.",
		"환불 계좌를 바꾸고 싶은데 어떻게 하나요?",
		"{상품} 파손돼서 왔어요. 교환 말고 환불해 주세요.",
		"포인트로 결제한 {금액}도 환불되나요?",
		"환불 완료됐다는데 통장에 입금이 안 됐습니다.",
	}},
	{"배송조회", "배송 현황은 마이페이지 > 주문내역 > 배송조회에서 송장번호로 확인하실 수 있습니다. 출고 후 보통 1~2일 안에 도착합니다.", []string{
		"주문번호 {주문} 배송 어디쯤 왔나요?",
		"{상품} 언제 도착하나요?",
		"{날짜}에 주문했는데 출고됐나요?",
		"송장번호 좀 알려주세요. 주문번호 {주문}입니다.",
		"배송조회가 안 돼요. {상품} 주문했어요.",
		"택배가 지금 어디 있는지 확인 부탁드려요.",
		"{상품} 오늘 받을 수 있을까요?",
		"주문한 {상품} 발송 예정일이 언제예요?",
		"배송 상태가 며칠째 '배송 준비중'이에요. 주문번호 {주문}.",
		"{주문} 주문 건 택배사가 어디인가요?",
		"주문 상태 확인하고 싶어요. {상품} 두 개 시켰어요.",
		"출고 완료 문자 받았는데 조회가 안 됩니다.",
	}},
	{"배송지연", "배송이 늦어져 죄송합니다. 택배사 물량 증가로 일부 지역이 1~2일 지연되고 있으며, 출고 후 5 영업일이 지나도 받지 못하셨다면 주문번호와 함께 알려주세요.", []string{
		"{날짜}에 주문했는데 아직도 안 왔어요.",
		"배송 예정일이 지났는데 {상품} 언제 와요?",
		"일주일째 배송 중이라고만 나와요. 주문번호 {주문}.",
		"{상품} 내일까지 꼭 필요한데 너무 늦어지네요.",
		"배송이 왜 이렇게 늦나요? 벌써 {일}일째예요.",
		"도착 예정일이 {날짜}였는데 아직 못 받았습니다.",
		"택배가 {일}일째 같은 곳에 멈춰 있어요.",
		"{상품} 배송 지연 보상 같은 건 없나요?",
		"빠른배송이라더니 {일}일이나 걸리네요.",
		"주문번호 {주문} 배송이 계속 미뤄지고 있어요.",
		"배송 완료라고 뜨는데 {상품}을 못 받았어요.",
	}},
	{"주문취소", "주문 취소는 출고 전까지 마이페이지 > 주문내역에서 직접 하실 수 있습니다. 이미 출고된 주문은 수령 후 반품으로 접수해 주세요.", []string{
		"주문번호 {주문} 취소해 주세요.",
		"방금 주문한 {상품} 취소하고 싶어요.",
		"실수로 {상품}을 두 번 주문했어요. 하나 취소 부탁드려요.",
		"아직 출고 전이면 주문 취소 가능한가요?",
		"{날짜}에 한 주문 전체 취소할게요.",
		"주문 취소 버튼이 안 눌려요. {주문}입니다.",
		"마음이 바뀌어서 {상품} 주문 취소하려고요.",
		"결제한 {금액} 주문 취소하면 바로 환불되나요?",
		"{상품} 주문 취소 요청드립니다.",
		"다른 곳에서 더 싸게 샀어요. 주문 취소해 주세요.",
		"예약 주문한 {상품} 취소할 수 있나요?",
	}},
	{"주소변경", "출고 전이라면 마이페이지 > 주문내역 > 배송지 변경에서 주소를 바꾸실 수 있습니다. 출고 후에는 택배사에 직접 요청하셔야 합니다.", []string{
		"배송지 주소를 바꾸고 싶어요. 주문번호 {주문}.",
		"이사 가서 주소 변경해야 해요. {상품} 주문 건이요.",
		"주소를 잘못 입력했어요. 수정 가능한가요?",
		"받는 사람 주소를 회사로 바꿔 주세요.",
		"{상품} 배송지를 {지역}로 변경 부탁드립니다.",
		"동 호수를 빠뜨렸어요. 주문번호 {주문}.",
		"출고 전이면 배송 주소 바꿀 수 있나요?",
		"배송지를 부모님 댁으로 변경하고 싶습니다.",
		"우편번호가 틀렸어요. 주소 수정해 주세요.",
		"주문한 {상품} 받는 곳을 {지역}로 바꿔 주실 수 있을까요?",
		"배송 메모랑 주소를 같이 바꾸고 싶어요.",
	}},
	{"결제오류", "결제 오류가 나면 카드 한도와 결제 비밀번호를 확인하신 뒤 다시 시도해 주세요. 이중 결제된 금액은 확인 후 3 영업일 안에 자동 취소됩니다.", []string{
		"결제가 계속 실패해요.",
		"{금액}이 두 번 결제됐어요.",
		"카드 결제 중에 오류가 나서 주문이 안 돼요.",
		"결제는 됐는데 주문 내역에 없어요.",
		"{pay}로 결제하려는데 승인이 안 납니다.",
		"쿠폰 적용이 안 되고 {금액}이 그대로 결제됐어요.",
		"결제 금액이 {금액}으로 잘못 나왔어요.",
		"할부 결제가 안 돼요. {pay} 써요.",
		"무통장 입금했는데 입금 확인이 안 된대요.",
		"{상품} 결제하다가 튕겼는데 돈은 빠져나갔어요.",
		"결제 오류 코드가 떠요. 어떻게 해야 하나요?",
	}},
	{"계정문제", "비밀번호는 로그인 화면의 '비밀번호 찾기'에서 휴대폰 인증 후 재설정하실 수 있습니다. 계정이 잠겼다면 본인 확인 후 고객센터에서 풀어 드립니다.", []string{
		"비밀번호를 잊어버렸어요. {기기}에서 로그인하려고요.",
		"{기기}에서 로그인이 안 돼요. 계정이 잠겼대요.",
		"{기기}에서 자동 로그인이 자꾸 풀려요.",
		"{기기}으로 접속하면 계정 정보가 안 보여요.",
		"아이디가 기억이 안 나요.",
		"휴대폰 번호가 바뀌어서 인증을 못 받아요.",
		"회원 탈퇴하고 싶어요.",
		"이메일 주소를 변경하고 싶습니다.",
		"다른 사람이 제 계정에 로그인한 것 같아요.",
		"카카오 로그인 연동이 풀렸어요.",
		"비밀번호 재설정 메일이 안 와요.",
		"휴면 계정 해제는 어떻게 하나요?",
		"본인 인증이 계속 실패해서 가입이 안 됩니다.",
	}},
	{"상품문의", "상품 상세페이지 하단의 '상품 정보'에서 소재, 사이즈, 보증 기간을 확인하실 수 있습니다. 재입고 알림을 신청하시면 입고 시 문자로 알려 드립니다.", []string{
		"{상품} 재입고 언제 되나요?",
		"{상품} 사이즈가 정사이즈인가요?",
		"이 {상품} 세탁기에 돌려도 되나요?",
		"{상품} 보증 기간이 어떻게 되나요?",
		"{상품} 다른 색상도 나오나요?",
		"{상품} 정품 맞나요?",
		"{상품} 배터리가 몇 시간 가나요?",
		"{상품}이랑 {상품2} 중에 뭐가 더 가벼워요?",
		"{상품} 구성품에 충전기 포함인가요?",
		"{상품} 소재가 뭔가요? 알레르기가 있어서요.",
		"{상품} 해외 배송도 되나요?",
	}},
	{"영수증요청", "영수증과 거래명세서는 마이페이지 > 주문내역 > 영수증 출력에서 받으실 수 있습니다. 세금계산서는 사업자 정보를 등록하신 뒤 신청해 주세요.", []string{
		"주문번호 {주문} 영수증 발급해 주세요.",
		"세금계산서 발행 가능한가요?",
		"현금영수증 신청을 깜빡했어요.",
		"{금액} 결제한 카드 영수증이 필요해요.",
		"회사 제출용 거래명세서 받을 수 있나요?",
		"영수증을 이메일로 받고 싶어요.",
		"{날짜} 주문 건 영수증 재발행 부탁드립니다.",
		"사업자 지출증빙용 현금영수증으로 바꿔 주세요.",
		"영수증에 회사 이름 넣어서 발급 가능한가요?",
		"{상품} 구매 내역서 출력은 어디서 하나요?",
		"간이영수증 말고 세금계산서로 부탁드려요.",
	}},
}

var slots = map[string][]string{
	"상품":  {"운동화", "패딩", "청바지", "무선 이어폰", "전기포트", "블루투스 스피커", "원피스", "백팩", "스마트워치", "가습기", "니트", "노트북 파우치", "텀블러", "에어프라이어"},
	"금액":  {"29,900원", "5만 원", "6천 원", "12만 9천 원", "3만5천원", "89,000원", "１５,０００원", "7,500원", "149,000원"},
	"날짜":  {"지난주 금요일", "3일 전", "어제", "이번 주 월요일", "지난달 말", "12월 3일", "그저께"},
	"일":   {"5", "7", "10", "4", "６"},
	"지역":  {"부산", "대전", "서울 강남구", "인천", "광주", "제주"},
	"기기":  {"아이폰 앱", "안드로이드 앱", "PC 웹", "모바일 웹", "태블릿"},
	"pay": {"카카오페이", "네이버페이", "신용카드", "토스", "체크카드"},
}

var (
	greetings = []string{"안녕하세요. ", "안녕하세요! ", "수고하십니다. ", "문의드립니다. ", "저기요, ", ""}
	signoffs  = []string{" 감사합니다.", " 빠른 답변 부탁드립니다.", " 확인 부탁드려요.", " 답변 기다릴게요.", ""}
)

// Case is one line of cases.jsonl.
type Case struct {
	ID       string            `json:"id"`
	Split    string            `json:"split"`
	Text     string            `json:"text"`
	Expected string            `json:"expected"`
	FAQ      string            `json:"faq"`
	Tags     map[string]string `json:"tags"`
}

const (
	perIntent  = 30
	trainShare = 0.7
)

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
		var v string
		if name == "주문" {
			v = fmt.Sprintf("%d%06d", 2024+r.IntN(2), r.IntN(1000000))
		} else {
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

// dress adds a greeting and sign-off, and sometimes a casual register or
// dropped spaces, as customers write. It reports which variations it made.
func dress(r *rand.Rand, s string) (string, map[string]string) {
	tags := map[string]string{}
	if r.IntN(4) == 0 {
		casual := strings.NewReplacer("싶어요.", "싶어.", "주세요.", "줘.", "나요?", "나?", "있나요?", "있어?", "부탁드려요.", "부탁해.", "돼요.", "돼.", "입니다.", "이야.")
		if c := casual.Replace(s); c != s {
			s = c
			tags["register"] = "casual"
		}
	}
	if r.IntN(5) == 0 {
		// Spacing varies in Korean: drop the spaces between some words.
		words := strings.Fields(s)
		var b strings.Builder
		for i, w := range words {
			if i > 0 && r.IntN(2) == 0 {
				b.WriteByte(' ')
			}
			b.WriteString(w)
		}
		if b.String() != s {
			s = b.String()
			tags["spacing"] = "dropped"
		}
	}
	if tags["register"] != "casual" {
		s = greetings[r.IntN(len(greetings))] + s + signoffs[r.IntN(len(signoffs))]
	}
	return strings.TrimSpace(s), tags
}

func generate() []Case {
	r := rand.New(rand.NewPCG(20261201, 10))
	seen := map[string]bool{}
	var all []Case
	for _, in := range intents {
		var cases []Case
		for attempts := 0; len(cases) < perIntent && attempts < 50*perIntent; attempts++ {
			base := fill(r, in.templates[attempts%len(in.templates)])
			if seen[base] {
				continue
			}
			seen[base] = true
			text, tags := dress(r, base)
			tags["intent"] = in.label
			cases = append(cases, Case{Text: text, Expected: in.label, FAQ: in.faq, Tags: tags})
		}
		// Stratified split: shuffle within the intent, first 70% train.
		gencases.SplitStratum(r, cases, trainShare, func(c *Case, split string) { c.Split = split })
		all = append(all, cases...)
	}
	gencases.ShuffleAndNumber(r, all, "ko", func(c *Case, id string) { c.ID = id })
	return all
}

func main() { gencases.Main(generate) }
