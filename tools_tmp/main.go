package main
import (
_ "github.com/labstack/echo/v4"
_ "github.com/redis/rueidis"
_ "gorm.io/gorm"
_ "gorm.io/driver/postgres"
_ "github.com/glebarez/sqlite"
_ "github.com/lestrrat-go/jwx/v2/jws"
_ "go.uber.org/fx"
_ "github.com/pressly/goose/v3"
_ "golang.org/x/oauth2"
_ "golang.org/x/crypto/argon2"
_ "github.com/google/uuid"
)
func main(){}
