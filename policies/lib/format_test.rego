package fleetgate.lib

import rego.v1

test_counts_group_their_thousands if {
	count_text(0) == "0"
	count_text(999) == "999"
	count_text(1000) == "1,000"
	count_text(310000) == "310,000"
	count_text(10000000) == "10,000,000"
}

test_exact_amounts_round_half_to_even_at_the_cent if {
	money_text("1105.2349", "USD") == "$1,105.23"
	money_text("1105.235", "USD") == "$1,105.24" # half a cent on an odd cent: up
	money_text("1105.225", "USD") == "$1,105.22" # half a cent on an even cent: stays
	money_text("1105.2250001", "USD") == "$1,105.23" # more than half
	money_text("0.005", "USD") == "$0.00"
	money_text("0.015", "USD") == "$0.02"
	money_text("999.995", "USD") == "$1,000.00"
	money_text("12", "USD") == "$12.00"
	money_text("0", "USD") == "$0.00"
	money_text("7.5", "EUR") == "€7.50"
	money_text("1234567.891", "CHF") == "1,234,567.89 CHF"
}

test_numbers_from_the_policy_data_round_to_the_cent if {
	money_text(1000, "USD") == "$1,000.00"
	money_text(1234567.5, "CHF") == "1,234,567.50 CHF"
	money_text(0.07, "GBP") == "£0.07"
}

test_sizes_use_decimal_units_and_tenths_half_to_even if {
	size_text(0) == "0 B"
	size_text(999) == "999 B"
	size_text(1000) == "1.0 kB"
	size_text(42000000) == "42.0 MB"
	size_text(42050000) == "42.0 MB" # 42.05: half, on an even tenth
	size_text(42150000) == "42.2 MB" # 42.15: half, on an odd tenth
	size_text(42050001) == "42.1 MB"
	size_text(999950) == "1000.0 kB"
	size_text(13020000000000) == "13.0 TB"
	size_text(12345678901234567890) == "12.3 EB"
	size_text(1000000000000000000000) == "1000.0 EB"
}
