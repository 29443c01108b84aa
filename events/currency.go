package events

import (
	"encoding/json"
	"fmt"
	"strings"
)

// iso4217 lists the active ISO 4217 currency codes (including fund and
// precious-metal codes), space separated.
const iso4217 = "" +
	"AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF " +
	"BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF " +
	"CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB " +
	"EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR " +
	"ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD " +
	"KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR " +
	"MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK " +
	"PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP " +
	"SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD " +
	"TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF " +
	"XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XTS XUA " +
	"YER ZAR ZMW ZWG ZWL"

var currencies = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range strings.Fields(iso4217) {
		m[c] = true
	}
	return m
}()

// ValidCurrency reports whether code is an active ISO 4217 currency code.
func ValidCurrency(code string) bool { return currencies[code] }

func readCurrency(raw json.RawMessage, path string, p *Problems) (string, bool) {
	s, ok := readString(raw, path, 16, p)
	if !ok {
		return "", false
	}
	code, err := currencyCode(s)
	if err != nil {
		p.Add(path, "%v", err)
		return "", false
	}
	return code, true
}

// currencyCode returns the interned currency code s, if it is one.
func currencyCode[T ~string | ~[]byte](s T) (string, error) {
	if !currencies[string(s)] {
		hint, upper := "", strings.ToUpper(string(s))
		if currencies[upper] {
			hint = " (currency codes are upper case: " + upper + ")"
		}
		return "", fmt.Errorf("%s is not an ISO 4217 currency code%s", quote(string(s)), hint)
	}
	return intern(s), nil
}
