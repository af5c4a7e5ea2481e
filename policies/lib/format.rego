# How amounts, counts and byte sizes read in messages: exactly as fleetgate's own tables write
# them (engine: fleetgate/fleet/display.py), so a finding and the FinOps table never disagree by
# a cent. Facts carry exact figures (amounts as decimal text); rules format them here, when a
# message is built, instead of every policy input carrying display strings: the embedded engine
# charges for every input member whether a rule reads it or not.
#
# Written for both engines: whole-number arithmetic (integers stay exact in both), digits
# printed with %v or %d, no to_number of text with leading zeros (see README.md, Engine notes).
package fleetgate.lib

import rego.v1

# count_text groups a count's thousands: 310000 -> "310,000".
count_text(n) := thousands(num(n))

# money_text writes a non-negative amount to the cent, rounded half to even, with the
# currency's symbol before it or its code after it: "$1,105.24", "2,000,000.00 CHF". An exact
# amount is decimal text (the cost fact's "1105.235"); a limit from the policy data is a number.
money_text(amount, currency) := concat("", [currency_symbols[currency], grouped_cents(cents(amount))]) if {
	currency_symbols[currency]
} else := concat("", [grouped_cents(cents(amount)), " ", currency])

currency_symbols := {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}

# cents of a number: rounded to the nearest cent.
cents(amount) := round(amount * 100) if is_number(amount)

# cents of exact decimal text ("1105.235", "12", "0.005"): the whole part and the first two
# decimals read digit by digit, the rest decides the rounding (half to even).
cents(amount) := ((to_number(whole) * 100) + kept) + round_up(rest, kept) if {
	is_string(amount)
	parts := split(amount, ".")
	whole := parts[0]
	fraction := concat("", [decimals(parts), "000"])
	kept := (to_number(substring(fraction, 0, 1)) * 10) + to_number(substring(fraction, 1, 1))
	rest := trim_right(substring(fraction, 2, -1), "0")
}

decimals(parts) := parts[1] if count(parts) == 2

else := ""

# round_up is 1 when the digits after the cent make more than half a cent, or exactly half a
# cent on an odd cent (half to even), else 0.
round_up(rest, kept) := 0 if {
	rest == ""
} else := 1 if {
	substring(rest, 0, 1) > "5"
} else := 1 if {
	substring(rest, 0, 1) == "5"
	count(rest) > 1
} else := 1 if {
	rest == "5"
	kept % 2 == 1
} else := 0

# grouped_cents writes whole cents as "1,105.24".
grouped_cents(total) := concat(".", [thousands(num(whole)), two_digits(total - (whole * 100))]) if {
	whole := floor(total / 100)
}

two_digits(n) := num(n) if {
	n >= 10
} else := concat("", ["0", num(n)])

# thousands puts a comma between groups of three digits: "1105" -> "1,105".
thousands(digits) := digits if {
	count(digits) <= 3
} else := concat(",", array.concat([substring(digits, 0, head)], rest)) if {
	head := count(digits) - (3 * floor((count(digits) - 1) / 3))
	rest := [substring(digits, head + (3 * i), 3) | some i in numbers.range(0, ((count(digits) - head) / 3) - 1)]
}

# size_text writes a byte count in decimal units, as CDNs bill them: "512 B", "42.0 MB",
# "13.0 TB", with tenths rounded half to even.
size_text(n) := sprintf("%v B", [n]) if {
	n < 1000
} else := sprintf("%d.%d %v", [floor(tenths / 10), tenths % 10, size_units[unit]]) if {
	unit := count([limit | some limit in size_limits; n >= limit])
	tenths := rounded_tenths(n, size_limits[unit - 1])
}

# 1000^1 .. 1000^6, written out: Rego has no exponent operator.
size_limits := [1000, 1000000, 1000000000, 1000000000000, 1000000000000000, 1000000000000000000]

size_units := ["B", "kB", "MB", "GB", "TB", "PB", "EB"]

# rounded_tenths is n / divisor in tenths, rounded half to even: the remainder decides, in
# whole numbers, so a byte count beyond a float's exact range still rounds right.
rounded_tenths(n, divisor) := q + half_even(2 * r, divisor, q) if {
	r := (n * 10) % divisor
	q := round(((n * 10) - r) / divisor)
}

half_even(twice, divisor, q) := 1 if {
	twice > divisor
} else := 1 if {
	twice == divisor
	q % 2 == 1
} else := 0
