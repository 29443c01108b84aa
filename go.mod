module github.com/agreement-ledger/ledger

go 1.26.8

require (
	github.com/oklog/ulid/v2 v2.1.2
	github.com/shopspring/decimal v1.6.0
)
