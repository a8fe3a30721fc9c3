module ${{ values.module }}

go ${{ values.goVersion }}
